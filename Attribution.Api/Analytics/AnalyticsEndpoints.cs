using Attribution.Api.Infrastructure;
using Attribution.Domain.Metrics;
using Attribution.Projections.Analytics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Analytics;

/// <summary>Behavioural analytics from Bronze (design 000 §4.2): effective frequency, paths and unique reach.</summary>
public static class AnalyticsEndpoints
{
    public static IEndpointRouteBuilder MapAnalytics(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Behaviour");
        group.MapGet("/frequency", Frequency).WithName("EffectiveFrequency")
            .WithSummary("How many impressions users saw before converting: the distribution, and the conversion rate by frequency bucket")
            .WithDescription("from/to (required, at most 92 days) bound event_time. A user's frequency is the impressions seen before their first " +
                             "conversion in the range (all of them when they did not convert). campaign_id limits impressions and conversions to that campaign.");
        group.MapGet("/paths", Paths).WithName("Paths")
            .WithSummary("The most common paths of users (impressions and clicks per campaign, in time order, up to the first conversion) with counts and conversion rate")
            .WithDescription("from/to (required, at most 92 days) bound event_time; limit (1-1000, default 20) paths; max_steps (1-50, default 10) keeps the " +
                             "last steps of longer paths. campaign_id: the users who met that campaign, with their whole paths.");
        group.MapGet("/reach", Reach).WithName("Reach")
            .WithSummary("Unique users reached (exact) and impressions per user, in total and per campaign")
            .WithDescription("from/to (required, at most 92 days) bound the impressions' event_time; each impression_id counts once.");
        return app;
    }

    public sealed record FrequencyBucketView(string Bucket, long Min, long? Max, long Users, long Converters, double? ConversionRate);

    public sealed record FrequencyView(
        DateTime From, DateTime To, string? CampaignId, long Users, long Converters, double? ConversionRate,
        double? AvgImpressionsBeforeConversion, IReadOnlyList<FrequencyPoint> Distribution, IReadOnlyList<FrequencyBucketView> Buckets);

    public sealed record PathView(string Path, IReadOnlyList<string> Steps, bool Truncated, long Users, long Converters, double? ConversionRate);

    public sealed record PathsView(DateTime From, DateTime To, string? CampaignId, long Users, long Converters, long DistinctPaths, IReadOnlyList<PathView> Paths);

    public sealed record ReachView(
        DateTime From, DateTime To, string? CampaignId, long Impressions, long UniqueUsers, double? ImpressionsPerUser,
        long ImpressionsWithoutUser, IReadOnlyList<ReachRow> Campaigns, IReadOnlyList<ReachPoint> ImpressionsPerUserDistribution);

    private static async Task<Results<Ok<FrequencyView>, ProblemHttpResult>> Frequency(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, BehaviourQueries queries, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        var campaign = AnalyticsQuery.Optional(campaignId);
        var r = await queries.FrequencyAsync(f, t, campaign, ct);
        return TypedResults.Ok(new FrequencyView(f, t, campaign, r.Users, r.Converters, r.ConversionRate, r.AvgImpressionsBeforeConversion,
            r.Distribution, r.Buckets.Select(b => new FrequencyBucketView(b.Bucket.Label, b.Bucket.Min, b.Bucket.Max, b.Users, b.Converters, b.ConversionRate)).ToList()));
    }

    private static async Task<Results<Ok<PathsView>, ProblemHttpResult>> Paths(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, string? limit,
        [FromQuery(Name = "max_steps")] string? maxSteps, BehaviourQueries queries, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        if (AnalyticsQuery.TryParseInt(limit, "limit", 1, 1000, 20, out var n) is { } limitError) return Problems.BadRequest(limitError);
        if (AnalyticsQuery.TryParseInt(maxSteps, "max_steps", 1, 50, 10, out var steps) is { } stepsError) return Problems.BadRequest(stepsError);
        var campaign = AnalyticsQuery.Optional(campaignId);
        var r = await queries.PathsAsync(f, t, campaign, n, steps, ct);
        return TypedResults.Ok(new PathsView(f, t, campaign, r.Users, r.Converters, r.DistinctPaths, r.Paths.Select(p =>
            new PathView((p.Truncated ? "… > " : "") + string.Join(" > ", p.Steps), p.Steps, p.Truncated, p.Users, p.Converters, p.ConversionRate)).ToList()));
    }

    private static async Task<Results<Ok<ReachView>, ProblemHttpResult>> Reach(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, BehaviourQueries queries, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        var campaign = AnalyticsQuery.Optional(campaignId);
        var r = await queries.ReachAsync(f, t, campaign, ct);
        return TypedResults.Ok(new ReachView(f, t, campaign, r.Total.Impressions, r.Total.UniqueUsers, r.Total.ImpressionsPerUser,
            r.Total.ImpressionsWithoutUser, r.Campaigns, r.ImpressionsPerUserDistribution));
    }
}
