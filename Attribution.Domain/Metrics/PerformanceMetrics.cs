namespace Attribution.Domain.Metrics;

/// <summary>Additive sums over Gold rows; every ratio is derived from these and nothing else.</summary>
public sealed record PerformanceTotals(
    long Impressions,
    long Clicks,
    long Conversions,
    decimal Cost,
    decimal Revenue,
    decimal RevenueOutOfWindow,
    double AttributionLagSecondsSum,
    long AttributionLagCount);

public sealed record PerformanceMetrics(
    long Impressions,
    long Clicks,
    long Conversions,
    decimal Cost,
    decimal Revenue,
    double? Ctr,
    double? Cvr,
    double? Roas,
    decimal? Cpc,
    decimal? Cpm,
    decimal? Cpa,
    double? AvgAttributionLagSeconds,
    decimal RevenueOutOfWindow)
{
    // Design 000 §4.1 and 004: CTR = clicks/impressions, CVR = conversions/clicks, ROAS = revenue/cost,
    // CPC = cost/clicks, CPM = 1000·cost/impressions, CPA = cost/conversions; a zero denominator gives null.
    public static PerformanceMetrics From(PerformanceTotals t) => new(
        t.Impressions,
        t.Clicks,
        t.Conversions,
        t.Cost,
        t.Revenue,
        Ratio(t.Clicks, t.Impressions),
        Ratio(t.Conversions, t.Clicks),
        RoasOf(t.Revenue, t.Cost),
        t.Clicks == 0 ? null : Money(t.Cost / t.Clicks),
        t.Impressions == 0 ? null : Money(1000m * t.Cost / t.Impressions),
        t.Conversions == 0 ? null : Money(t.Cost / t.Conversions),
        t.AttributionLagCount == 0 ? null : t.AttributionLagSecondsSum / t.AttributionLagCount,
        t.RevenueOutOfWindow);

    /// <summary>ROAS = revenue / cost, null on a zero cost: the one definition the metrics and the what-if diff share.</summary>
    public static double? RoasOf(decimal revenue, decimal cost) => cost == 0m ? null : (double)(revenue / cost);

    private static double? Ratio(long numerator, long denominator) =>
        denominator == 0 ? null : (double)numerator / denominator;

    private static decimal Money(decimal value) => decimal.Round(value, 6, MidpointRounding.AwayFromZero);
}
