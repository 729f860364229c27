namespace Attribution.Domain.Fraud;

/// <summary>One campaign's figures for one hour (by impression time, as the rollups keep them).</summary>
public sealed record HourlyCell(string CampaignId, DateTime Hour, long Impressions, long Clicks);

/// <summary>The trailing baseline a value was scored against.</summary>
public sealed record Baseline(double Median, double Mad, int Hours);

/// <summary>A campaign × hour whose clicks or CTR is far from the campaign's own recent hours.</summary>
public sealed record Anomaly(string CampaignId, DateTime Hour, string Metric, double Value, Baseline Baseline, double Score);

/// <summary>Design 004's anomaly detection, as statistics rather than a trained model: it reports and flags nothing.</summary>
public static class Anomalies
{
    public static readonly TimeSpan BaselineSpan = TimeSpan.FromHours(168);
    public const int MinBaselineHours = 24;

    /// <summary>Every cell with an hour in [from, to) whose clicks or CTR has |robust z| ≥ threshold against the
    /// campaign's hours with impressions in the 168 hours before it (at least 24 of them, or the cell is not scored).</summary>
    public static List<Anomaly> Find(IReadOnlyList<HourlyCell> cells, DateTime from, DateTime to, double threshold)
    {
        ArgumentNullException.ThrowIfNull(cells);
        var found = new List<Anomaly>();
        foreach (var campaign in cells.Where(c => c.Impressions > 0).GroupBy(c => c.CampaignId, StringComparer.Ordinal))
        {
            var hours = campaign.OrderBy(c => c.Hour).ToArray();
            var start = 0;
            for (var i = 0; i < hours.Length; i++)
            {
                var cell = hours[i];
                while (hours[start].Hour < cell.Hour - BaselineSpan) start++;
                if (cell.Hour < from || cell.Hour >= to || i - start < MinBaselineHours) continue;
                var baseline = hours[start..i];
                Score(cell, "clicks", cell.Clicks, baseline.Select(c => (double)c.Clicks).ToArray(), threshold, found);
                Score(cell, "ctr", Ctr(cell), baseline.Select(Ctr).ToArray(), threshold, found);
            }
        }

        return [.. found.OrderBy(a => a.Hour).ThenBy(a => a.CampaignId, StringComparer.Ordinal).ThenBy(a => a.Metric, StringComparer.Ordinal)];
    }

    private static double Ctr(HourlyCell c) => (double)c.Clicks / c.Impressions;

    private static void Score(HourlyCell cell, string metric, double value, double[] baseline, double threshold, List<Anomaly> found)
    {
        if (RobustZ(value, baseline) is not var (score, median, mad) || Math.Abs(score) < threshold) return;
        found.Add(new Anomaly(cell.CampaignId, cell.Hour, metric, value, new Baseline(median, mad, baseline.Length), score));
    }

    /// <summary>(x − median) / (1.4826 · MAD), the MAD scaled to a normal's standard deviation. When more than half the
    /// baseline is one value (MAD = 0) the mean absolute deviation stands in, scaled by 1.2533; when that is 0 too the
    /// baseline is constant and no deviation can be scored.</summary>
    public static (double Score, double Median, double Mad)? RobustZ(double value, IReadOnlyList<double> baseline)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        if (baseline.Count == 0) return null;
        var median = Median(baseline);
        var mad = Median(baseline.Select(b => Math.Abs(b - median)).ToArray());
        if (mad > 0) return ((value - median) / (1.4826 * mad), median, mad);
        var meanAbsolute = baseline.Average(b => Math.Abs(b - median));
        return meanAbsolute > 0 ? ((value - median) / (1.2533 * meanAbsolute), median, mad) : null;
    }

    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
