using System.Globalization;
using System.Text;

namespace Attribution.Api.Billing;

/// <summary>RFC 4180 CSV of billing lines, one line per campaign version (and adjustment), the lineage flattened.</summary>
public static class BillingCsv
{
    public const string ContentType = "text/csv";

    public static readonly string[] Columns =
    [
        "line_type", "corrects_period", "campaign_id", "campaign_key", "billing_model", "cpc_rate", "version_start", "version_end",
        "billable_impressions", "billable_clicks", "amount", "excluded_impressions", "excluded_clicks", "excluded_amount",
        "event_count", "events_sha256", "bronze_snapshot_id",
    ];

    public static bool Wanted(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase));

    public static string Write(IEnumerable<BillingEndpoints.BillingLineView> lines)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', Columns).Append("\r\n");
        foreach (var l in lines)
        {
            object?[] values =
            [
                l.LineType, l.CorrectsPeriod, l.CampaignId, l.CampaignKey, l.BillingModel, l.CpcRate, l.VersionStart, l.VersionEnd,
                l.BillableImpressions, l.BillableClicks, l.Amount, l.ExcludedImpressions, l.ExcludedClicks, l.ExcludedAmount,
                l.Lineage.EventCount, l.Lineage.EventsSha256, l.Lineage.BronzeSnapshotId,
            ];
            sb.AppendJoin(',', values.Select(Field)).Append("\r\n");
        }

        return sb.ToString();
    }

    private static string Field(object? value)
    {
        var text = value switch
        {
            null => "",
            DateTimeOffset t => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture),
            // Money exactly as stored, without numeric(18, 6)'s trailing zeros.
            decimal m => (m / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return text.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
    }
}
