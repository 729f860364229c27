using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Fraud;
using Attribution.Projections.Fraud;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Fraud;

/// <summary>Fraud detection (design 004): the rules in force and the anomaly report.</summary>
public static class FraudEndpoints
{
    public static IEndpointRouteBuilder MapFraud(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/fraud").WithTags("Fraud");
        group.MapGet("/rules", GetRules).WithName("FraudRules")
            .WithSummary("The fraud rules in force: clicks per IP and per user per minute, bot User-Agent patterns, the IP blocklist, the shortest click-to-conversion time, the anomaly threshold");
        group.MapPut("/rules", PutRules).WithName("UpdateFraudRules").RequireAdminKey()
            .WithSummary("Changes any of the rules for events applied from now on; fields left out keep their value (needs X-Admin-Key)")
            .WithDescription("clicks_per_ip_per_minute and clicks_per_user_per_minute in [1, 1000000], min_click_to_conversion_seconds in [0, 86400], " +
                             "bot_user_agent_patterns (case-insensitive substrings, at most 200), ip_blocklist (CIDR ranges), anomaly_threshold in (0, 100].");
        group.MapPut("/blocklist", PutBlocklist).WithName("UpdateFraudBlocklist").RequireAdminKey()
            .WithSummary("Replaces the IP blocklist: {\"cidrs\": [\"203.0.113.0/24\", \"2001:db8::/32\"]} (needs X-Admin-Key)")
            .WithDescription("A bare address is its /32 or /128; a range with bits set past its prefix (10.0.0.1/8) is refused as a likely typo.");
        group.MapGet("/anomalies", GetAnomalies).WithName("FraudAnomalies")
            .WithSummary("Campaign × hour cells whose clicks or CTR is far from the campaign's trailing baseline (robust z-score on the median and MAD of its previous 24-168 hours)")
            .WithDescription("from/to (required, at most 92 days) bound the hour (impression time); campaign_id filters; threshold overrides the rules' " +
                             "anomaly_threshold. It reports: no event is flagged and no bill changes.");
        return app;
    }

    public sealed record RulesChange(
        int? ClicksPerIpPerMinute, IReadOnlyList<string?>? BotUserAgentPatterns, IReadOnlyList<string?>? IpBlocklist,
        int? MinClickToConversionSeconds, int? ClicksPerUserPerMinute, double? AnomalyThreshold);

    public sealed record BlocklistChange(IReadOnlyList<string?>? Cidrs);

    public sealed record AnomaliesView(DateTime From, DateTime To, string? CampaignId, double Threshold, IReadOnlyList<Anomaly> Anomalies);

    private static async Task<Ok<FraudRulesDocument>> GetRules(FraudSettingsStore store, CancellationToken ct) =>
        TypedResults.Ok(FraudRulesDocument.From(await store.ReadAsync(ct)));

    private static async Task<Results<Ok<FraudRulesDocument>, ProblemHttpResult>> PutRules(RulesChange change, FraudSettingsStore store, CancellationToken ct)
    {
        if (FraudSettings.Check(change.ClicksPerIpPerMinute, change.BotUserAgentPatterns, change.MinClickToConversionSeconds,
                change.ClicksPerUserPerMinute, change.AnomalyThreshold) is { } error)
            return Problems.BadRequest(error, "The fraud rules are not valid");
        var current = await store.ReadAsync(ct);
        var blocklist = current.IpBlocklist;
        if (change.IpBlocklist is { } cidrs)
        {
            if (!FraudSettings.TryParseBlocklist(cidrs, out var parsed, out var listError)) return Problems.BadRequest($"ip_blocklist: {listError}", "The fraud rules are not valid");
            blocklist = parsed;
        }

        var updated = new FraudSettings(
            change.ClicksPerIpPerMinute ?? current.ClicksPerIpPerMinute,
            change.BotUserAgentPatterns is { } patterns ? [.. patterns.Select(p => p!)] : current.BotUserAgentPatterns,
            blocklist,
            change.MinClickToConversionSeconds ?? current.MinClickToConversionSeconds,
            change.ClicksPerUserPerMinute ?? current.ClicksPerUserPerMinute,
            change.AnomalyThreshold ?? current.AnomalyThreshold);
        await store.UpdateAsync(updated, ct);
        return TypedResults.Ok(FraudRulesDocument.From(updated));
    }

    private static async Task<Results<Ok<FraudRulesDocument>, ProblemHttpResult>> PutBlocklist(BlocklistChange change, FraudSettingsStore store, CancellationToken ct)
    {
        if (change.Cidrs is null) return Problems.BadRequest("cidrs is required: a list of CIDR ranges ([] clears the blocklist)", "The blocklist is not valid");
        if (!FraudSettings.TryParseBlocklist(change.Cidrs, out var blocklist, out var error)) return Problems.BadRequest(error!, "The blocklist is not valid");
        var updated = await store.ReadAsync(ct) with { IpBlocklist = blocklist };
        await store.UpdateAsync(updated, ct);
        return TypedResults.Ok(FraudRulesDocument.From(updated));
    }

    private static async Task<Results<Ok<AnomaliesView>, ProblemHttpResult>> GetAnomalies(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, string? threshold,
        AnomalyQuery anomalies, FraudSettingsStore store, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        double z;
        if (threshold is null) z = (await store.ReadAsync(ct)).AnomalyThreshold;
        else if (!double.TryParse(threshold, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out z)
                 || FraudSettings.Check(null, null, null, null, z) is not null)
            return Problems.BadRequest($"'threshold' must be a number in (0, 100], got '{threshold}'");
        var campaign = AnalyticsQuery.Optional(campaignId);
        return TypedResults.Ok(new AnomaliesView(f, t, campaign, z, await anomalies.FindAsync(f, t, campaign, z, ct)));
    }
}
