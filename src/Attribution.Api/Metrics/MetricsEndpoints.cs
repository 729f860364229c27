using Attribution.Api.Infrastructure;
using Attribution.Domain.Metrics;
using Attribution.Projections.Gold;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Metrics;

/// <summary>Campaign performance from Gold.</summary>
public static class MetricsEndpoints
{
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/metrics").WithTags("Metrics");
        group.MapGet("/campaigns", Campaigns).WithName("CampaignMetrics")
            .WithSummary("Impressions, clicks, conversions, cost, revenue, CTR, CVR, ROAS, CPC, CPM, CPA and attribution lag per campaign")
            .WithDescription("from/to bound impression_time, half-open [from, to), as ISO-8601 or Unix epoch seconds. Ratios are null on a zero denominator.");
        return app;
    }

    public sealed record CampaignMetricsRow(
        string? CampaignId, long Impressions, long Clicks, long Conversions, decimal Cost, decimal Revenue,
        double? Ctr, double? Cvr, double? Roas, decimal? Cpc, decimal? Cpm, decimal? Cpa,
        double? AvgAttributionLagSeconds, decimal RevenueOutOfWindow);

    public sealed record MetricsResponse<T>(IReadOnlyList<T> Rows);

    private static async Task<Results<Ok<MetricsResponse<CampaignMetricsRow>>, ProblemHttpResult>> Campaigns(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, GoldQueries gold, CancellationToken ct)
    {
        if (QueryTime.TryParseRange(from, to, out var fromTime, out var toTime) is { } error) return Problems.BadRequest(error);
        var totals = await gold.CampaignTotalsAsync(fromTime, toTime, string.IsNullOrWhiteSpace(campaignId) ? null : campaignId, ct);
        return TypedResults.Ok(new MetricsResponse<CampaignMetricsRow>(totals.Select(t =>
        {
            var m = PerformanceMetrics.From(t.Totals);
            return new CampaignMetricsRow(t.CampaignId, m.Impressions, m.Clicks, m.Conversions, m.Cost, m.Revenue, m.Ctr, m.Cvr,
                m.Roas, m.Cpc, m.Cpm, m.Cpa, m.AvgAttributionLagSeconds, m.RevenueOutOfWindow);
        }).ToList()));
    }
}
