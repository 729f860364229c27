using Attribution.Domain.Metrics;

namespace Attribution.Projections.Rollups;

/// <summary>One tier of the rollups: an hourly, a daily and a weekly table whose cells keep these dimensions (time
/// aside) and sum over the others.</summary>
public sealed record RollupTier(string Hourly, string Daily, string Weekly, IReadOnlyList<string> Dimensions)
{
    /// <summary>The full tier's deltas summed into this tier's cells.</summary>
    public IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> Coarsen(IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> cells) =>
        Dimensions.Count == MetricDimensions.All.Count(d => !MetricDimensions.IsTime(d))
            ? cells
            : HourlyRollupRule.SumOver(cells, c => c with
            {
                CreativeId = Dimensions.Contains(MetricDimensions.CreativeId) ? c.CreativeId : null,
                GeoCountry = Dimensions.Contains(MetricDimensions.GeoCountry) ? c.GeoCountry : null,
                Platform = Dimensions.Contains(MetricDimensions.Platform) ? c.Platform : null,
            });
}

/// <summary>
/// The tiers of the rollups, smallest first. The batch maintains every one from the same delta; a question reads the
/// smallest that keeps every dimension it groups or filters by. The table names are constants, never input.
/// </summary>
public static class RollupTiers
{
    public static IReadOnlyList<RollupTier> All { get; } =
    [
        // Campaign-level questions, the most common ones, read ~100 times fewer rows here.
        new("metrics_hourly_campaign", "metrics_daily_campaign", "metrics_weekly_campaign", [MetricDimensions.CampaignId]),
        // Summed over creatives, the dimension with the most values per campaign.
        new("metrics_hourly_geo_platform", "metrics_daily_geo_platform", "metrics_weekly_geo_platform",
            [MetricDimensions.CampaignId, MetricDimensions.GeoCountry, MetricDimensions.Platform]),
        new("metrics_hourly", "metrics_daily", "metrics_weekly",
            [MetricDimensions.CampaignId, MetricDimensions.CreativeId, MetricDimensions.GeoCountry, MetricDimensions.Platform]),
    ];

    public static IEnumerable<string> Tables => All.SelectMany(t => new[] { t.Hourly, t.Daily, t.Weekly });

    public static RollupTier Smallest(IReadOnlyList<string> groupBy, MetricsFilter filter)
    {
        ArgumentNullException.ThrowIfNull(groupBy);
        ArgumentNullException.ThrowIfNull(filter);
        var needed = groupBy.Where(d => !MetricDimensions.IsTime(d)).ToList();
        if (filter.CampaignIds is { Count: > 0 }) needed.Add(MetricDimensions.CampaignId);
        if (filter.CreativeIds is { Count: > 0 }) needed.Add(MetricDimensions.CreativeId);
        if (filter.GeoCountries is { Count: > 0 }) needed.Add(MetricDimensions.GeoCountry);
        if (filter.Platforms is { Count: > 0 }) needed.Add(MetricDimensions.Platform);
        return All.First(t => needed.All(t.Dimensions.Contains));
    }
}
