using System.Text.Json.Serialization;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Metrics;
using Attribution.Projections.Rollups;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Metrics;

/// <summary>Performance metrics from the hourly rollup of Gold (whole hours) and Gold itself (partial hours).</summary>
public static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/metrics").WithTags("Metrics");
        group.MapGet("", Query).WithName("Metrics")
            .WithSummary("The metric set of /metrics/campaigns for any combination of campaign_id, creative_id, geo_country, platform, hour or day, plus totals")
            .WithDescription("from/to bound impression_time, half-open [from, to), ISO-8601 or Unix epoch seconds; whole hours come from the hourly rollup, " +
                             "partial hours at the edges from Gold. group_by: comma-separated dimensions (hour or day, not both). Filters campaign_id, " +
                             "creative_id, geo_country, platform take one value or a comma-separated list. include=budget_at_impression joins each impression " +
                             "to the campaign version valid at its impression_time and adds campaign_key, budget_at_impression, budget_type and " +
                             "status_at_impression to the groups (served from Gold). Accept: text/csv answers the rows as CSV.")
            .Produces(200, contentType: MetricsCsv.ContentType);
        group.MapGet("/campaigns", Campaigns).WithName("CampaignMetrics")
            .WithSummary("Impressions, clicks, conversions, cost, revenue, CTR, CVR, ROAS, CPC, CPM, CPA and attribution lag per campaign")
            .WithDescription("from/to bound impression_time, half-open [from, to), as ISO-8601 or Unix epoch seconds. Ratios are null on a zero denominator.");
        return app;
    }

    public const string IncludeBudgetAtImpression = "budget_at_impression";

    public static IReadOnlyList<string> MetricNames { get; } =
    [
        "impressions", "clicks", "conversions", "cost", "revenue", "ctr", "cvr", "roas", "cpc", "cpm", "cpa",
        "avg_attribution_lag_seconds", "revenue_out_of_window",
    ];

    public sealed record CampaignMetricsRow(
        string? CampaignId, long Impressions, long Clicks, long Conversions, decimal Cost, decimal Revenue,
        double? Ctr, double? Cvr, double? Roas, decimal? Cpc, decimal? Cpm, decimal? Cpa,
        double? AvgAttributionLagSeconds, decimal RevenueOutOfWindow);

    public sealed record MetricsResponse<T>(IReadOnlyList<T> Rows);

    /// <summary>One group: its dimensions (only those asked for) next to the metric set.</summary>
    public sealed record MetricsRowView(
        long Impressions, long Clicks, long Conversions, decimal Cost, decimal Revenue,
        double? Ctr, double? Cvr, double? Roas, decimal? Cpc, decimal? Cpm, decimal? Cpa,
        double? AvgAttributionLagSeconds, decimal RevenueOutOfWindow)
    {
        [JsonExtensionData]
        public Dictionary<string, object?> Dimensions { get; init; } = [];

        public static MetricsRowView From(HourlyMeasures measures, IReadOnlyDictionary<string, object?>? dimensions = null)
        {
            var m = PerformanceMetrics.From(measures.ToTotals());
            return new MetricsRowView(m.Impressions, m.Clicks, m.Conversions, m.Cost, m.Revenue, m.Ctr, m.Cvr, m.Roas, m.Cpc, m.Cpm,
                m.Cpa, m.AvgAttributionLagSeconds, m.RevenueOutOfWindow)
            { Dimensions = dimensions?.ToDictionary(StringComparer.Ordinal) ?? [] };
        }
    }

    /// <summary>Rows and totals. source is "rollup" when whole hours came from the hourly rollup, "gold" when Gold answered it
    /// all; truncated says more groups matched than limit (the totals still cover them all).</summary>
    public sealed record MetricsView(
        DateTime? From, DateTime? To, IReadOnlyList<string> GroupBy, IReadOnlyList<string> Include, string Source, bool Truncated,
        IReadOnlyList<MetricsRowView> Rows, MetricsRowView Totals);

    private static async Task<Results<Ok<MetricsView>, ContentHttpResult, ProblemHttpResult>> Query(
        HttpRequest request, string? from, string? to,
        [FromQuery(Name = "group_by")] string? groupBy,
        [FromQuery(Name = "campaign_id")] string? campaignId,
        [FromQuery(Name = "creative_id")] string? creativeId,
        [FromQuery(Name = "geo_country")] string? geoCountry,
        string? platform, string? include, string? limit,
        MetricsQueries metrics, CancellationToken ct)
    {
        if (QueryTime.TryParseRange(from, to, out var fromTime, out var toTime) is { } rangeError) return Problems.BadRequest(rangeError);
        if (QueryText.NulError(("campaign_id", campaignId), ("creative_id", creativeId), ("geo_country", geoCountry), ("platform", platform)) is { } nul)
            return Problems.BadRequest(nul);
        if (MetricDimensions.TryParse(groupBy, out var dimensions) is { } groupError) return Problems.BadRequest(groupError);
        var includes = List(include) ?? [];
        if (includes.FirstOrDefault(i => i != IncludeBudgetAtImpression) is { } unknown)
            return Problems.BadRequest($"unknown include '{unknown}'; allowed: {IncludeBudgetAtImpression}");
        if (Analytics.AnalyticsQuery.TryParseInt(limit, "limit", 1, MetricsRequest.MaxLimit, MetricsRequest.DefaultLimit, out var max) is { } limitError)
            return Problems.BadRequest(limitError);

        var result = await metrics.QueryAsync(new MetricsRequest(fromTime, toTime, dimensions,
            new MetricsFilter(List(campaignId), List(creativeId), List(geoCountry), List(platform)),
            includes.Count > 0, max), ct);
        var rows = result.Rows.Select(r => MetricsRowView.From(r.Measures, r.Dimensions)).ToList();
        if (MetricsCsv.Wanted(request))
        {
            var columns = dimensions.Concat(includes.Count > 0 ? MetricDimensions.Budget : []).ToList();
            return TypedResults.Text(MetricsCsv.Write(columns, rows), MetricsCsv.ContentType);
        }

        return TypedResults.Ok(new MetricsView(fromTime, toTime, dimensions, includes, result.Source, result.Truncated, rows,
            MetricsRowView.From(result.Totals)));
    }

    private static async Task<Results<Ok<MetricsResponse<CampaignMetricsRow>>, ProblemHttpResult>> Campaigns(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, MetricsQueries metrics, CancellationToken ct)
    {
        if (QueryTime.TryParseRange(from, to, out var fromTime, out var toTime) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        var result = await metrics.QueryAsync(new MetricsRequest(fromTime, toTime, [MetricDimensions.CampaignId],
            new MetricsFilter(CampaignIds: List(campaignId)), Limit: MetricsRequest.MaxLimit), ct);
        return TypedResults.Ok(new MetricsResponse<CampaignMetricsRow>(result.Rows.Select(r =>
        {
            var m = PerformanceMetrics.From(r.Measures.ToTotals());
            return new CampaignMetricsRow((string?)r.Dimensions[MetricDimensions.CampaignId], m.Impressions, m.Clicks, m.Conversions, m.Cost,
                m.Revenue, m.Ctr, m.Cvr, m.Roas, m.Cpc, m.Cpm, m.Cpa, m.AvgAttributionLagSeconds, m.RevenueOutOfWindow);
        }).ToList()));
    }

    private static List<string>? List(string? values)
    {
        var list = values?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        return list is { Count: > 0 } ? list : null;
    }
}
