namespace Attribution.Projections.Rollups;

/// <summary>
/// The tiers of the rollups, smallest first, each with the dimensions its cells keep (time aside). A question reads
/// the smallest tier that keeps every dimension it groups or filters by; the table names are constants, never input.
/// </summary>
public static class RollupTiers
{
    private static readonly (string Daily, string Hourly, string[] Dimensions)[] Tiers =
    [
        ("metrics_daily_campaign", "metrics_hourly_campaign", [MetricDimensions.CampaignId]),
        ("metrics_daily_geo_platform", "metrics_hourly_geo_platform",
            [MetricDimensions.CampaignId, MetricDimensions.GeoCountry, MetricDimensions.Platform]),
        ("metrics_daily", "metrics_hourly",
            [MetricDimensions.CampaignId, MetricDimensions.CreativeId, MetricDimensions.GeoCountry, MetricDimensions.Platform]),
    ];

    public static (string Daily, string Hourly) Smallest(IReadOnlyList<string> groupBy, MetricsFilter filter)
    {
        ArgumentNullException.ThrowIfNull(groupBy);
        ArgumentNullException.ThrowIfNull(filter);
        var needed = groupBy.Where(d => !MetricDimensions.IsTime(d)).ToList();
        if (filter.CampaignIds is { Count: > 0 }) needed.Add(MetricDimensions.CampaignId);
        if (filter.CreativeIds is { Count: > 0 }) needed.Add(MetricDimensions.CreativeId);
        if (filter.GeoCountries is { Count: > 0 }) needed.Add(MetricDimensions.GeoCountry);
        if (filter.Platforms is { Count: > 0 }) needed.Add(MetricDimensions.Platform);
        var tier = Tiers.First(t => needed.All(t.Dimensions.Contains));
        return (tier.Daily, tier.Hourly);
    }
}
