using System.Text.Json.Serialization;
using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Metrics;
using Attribution.Domain.Users;
using Attribution.Projections.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Users;

/// <summary>Audience analysis: Gold joined to the user version valid at each impression time, grouped by bands.</summary>
public static class AudienceEndpoints
{
    public static IEndpointRouteBuilder MapAudience(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/audience", Query).WithName("Audience").WithTags("Users")
            .WithSummary("Impressions, unique reach, clicks, conversions, cost, revenue, CTR, CVR and ROAS by the audience's bands")
            .WithDescription("from/to (required, at most 92 days) bound impression_time, half-open [from, to). group_by: a comma-separated subset of " +
                             string.Join(", ", Audience.Dimensions) + ". Each impression is joined to the profile version valid at its impression time; " +
                             "users without one, and absent bands, fall in \"unknown\". An impression counts in each of its user's interests, so " +
                             "interest groups overlap. clicks and conversions count clicked and converted impressions. campaign_id filters.");
        return app;
    }

    /// <summary>One group: its bands (only those asked for) next to the measures.</summary>
    public sealed record AudienceRowView(long Impressions, long UniqueReach, long Clicks, long Conversions, decimal Cost, decimal Revenue,
        double? Ctr, double? Cvr, double? Roas)
    {
        [JsonExtensionData]
        public Dictionary<string, object?> Groups { get; init; } = [];
    }

    public sealed record AudienceView(IReadOnlyList<AudienceRowView> Rows);

    private static async Task<Results<Ok<AudienceView>, ProblemHttpResult>> Query(
        string? from, string? to, [FromQuery(Name = "group_by")] string? groupBy, [FromQuery(Name = "campaign_id")] string? campaignId,
        AudienceQueries audience, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        if (!Audience.TryParseGroupBy(groupBy, out var dimensions, out var groupError)) return Problems.BadRequest(groupError!);
        var rows = await audience.QueryAsync(f, t, dimensions, AnalyticsQuery.Optional(campaignId), ct);
        return TypedResults.Ok(new AudienceView(rows.Select(r =>
        {
            // The metric definitions of design 000 §4.1, as the campaign metrics use them.
            var m = PerformanceMetrics.From(new PerformanceTotals(r.Impressions, r.Clicks, r.Conversions, r.Cost, r.Revenue, 0m, 0, 0));
            return new AudienceRowView(r.Impressions, r.UniqueReach, r.Clicks, r.Conversions, r.Cost, r.Revenue, m.Ctr, m.Cvr, m.Roas)
            {
                Groups = dimensions.Select((d, i) => (d, (object?)r.Keys[i])).ToDictionary(g => g.d, g => g.Item2, StringComparer.Ordinal),
            };
        }).ToList()));
    }
}
