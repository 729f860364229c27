using System.Globalization;
using System.Text;

namespace Attribution.Api.Metrics;

/// <summary>RFC 4180 CSV of metrics rows: the dimensions, then the metric set, one line per group.</summary>
public static class MetricsCsv
{
    public const string ContentType = "text/csv";

    public static bool Wanted(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase));

    public static string Write(IReadOnlyList<string> dimensions, IEnumerable<MetricsEndpoints.MetricsRowView> rows)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', dimensions.Concat(MetricsEndpoints.MetricNames)).Append("\r\n");
        foreach (var r in rows)
        {
            var values = dimensions.Select(d => r.Dimensions.GetValueOrDefault(d))
                .Concat([r.Impressions, r.Clicks, r.Conversions, r.Cost, r.Revenue, r.Ctr, r.Cvr, r.Roas, r.Cpc, r.Cpm, r.Cpa,
                    r.AvgAttributionLagSeconds, r.RevenueOutOfWindow]);
            sb.AppendJoin(',', values.Select(Field)).Append("\r\n");
        }

        return sb.ToString();
    }

    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            DateTime t => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            decimal m => (m / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture),
            double d => d.ToString("R", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
