using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Fraud;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Fraud;

/// <summary>Fraud detection (design 004): the rules in force, what they flagged, backtests of other rules, and the anomaly report.</summary>
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
        group.MapGet("/summary", GetSummary).WithName("FraudSummary")
            .WithSummary("Per campaign and rule: the impressions, clicks and conversions flagged, with the spend and revenue their flags exclude")
            .WithDescription("from/to (required, at most 92 days) bound the flagged event's time; campaign_id filters. An event flagged by two rules " +
                             "counts under each. spend_excluded is the bid price of flagged impressions; revenue_excluded is the revenue the impression " +
                             "credits without the rules and not with them, counted on the event whose flag took it.");
        group.MapGet("/series", GetSeries).WithName("FraudSeries")
            .WithSummary("Per hour (or bucket=day) of a range: impressions served and the events each rule flagged, with the flagged share (flagged events per impression)")
            .WithDescription("from/to required, at most 92 days. The dashboard's fraud panel draws it.");
        group.MapGet("/events", GetEvents).WithName("FraudEvents")
            .WithSummary("The flagged events of a range, oldest first, each with its rules (rule= filters, limit= 1-1000, default 100)");
        group.MapPost("/backtest", Backtest).WithName("FraudBacktest")
            .WithSummary("What other rules would flag over the stored events of [from, to): the summary under them and under the rules in force, " +
                         "the difference, and 20 sample event ids per rule. Changes nothing.")
            .WithDescription("Body: {\"from\": …, \"to\": …, \"rules\": {…}}, rules in the shape of PUT /api/v1/fraud/rules (fields left out keep the " +
                             "value in force). At most 92 days and 1,000,000 impressions with an event in the range.");
        return app;
    }

    public sealed record SummaryLineView(
        string? CampaignId, string Rule, long Impressions, long Clicks, long Conversions, decimal SpendExcluded, decimal RevenueExcluded)
    {
        public static SummaryLineView From(FraudSummaryLine l) =>
            new(l.CampaignId, l.Rule.ToWire(), l.Impressions, l.Clicks, l.Conversions, l.SpendExcluded, l.RevenueExcluded);
    }

    public sealed record SummaryView(DateTime From, DateTime To, string? CampaignId, IReadOnlyList<SummaryLineView> Lines);

    public sealed record FlaggedEventView(
        string EventId, string ImpressionId, string EventType, DateTime EventTime, string? CampaignId, IReadOnlyList<string> Rules,
        decimal SpendExcluded, decimal RevenueExcluded);

    public sealed record EventsView(DateTime From, DateTime To, string? Rule, int Limit, IReadOnlyList<FlaggedEventView> Events);

    public sealed record SeriesPointView(DateTime Bucket, long Impressions, IReadOnlyDictionary<string, long> Flagged, IReadOnlyDictionary<string, double?> Share);

    public sealed record SeriesView(DateTime From, DateTime To, string Bucket, IReadOnlyList<string> Rules, IReadOnlyList<SeriesPointView> Points);

    public sealed record BacktestRequest(string? From, string? To, RulesChange? Rules);

    public sealed record BacktestView(
        DateTime From, DateTime To, long Impressions, FraudRulesDocument Rules, IReadOnlyList<SummaryLineView> Proposed,
        IReadOnlyList<SummaryLineView> InForce, IReadOnlyList<SummaryLineView> Difference, IReadOnlyDictionary<string, IReadOnlyList<string>> Samples);

    public sealed record RulesChange(
        int? ClicksPerIpPerMinute, IReadOnlyList<string?>? BotUserAgentPatterns, IReadOnlyList<string?>? IpBlocklist,
        int? MinClickToConversionSeconds, int? ClicksPerUserPerMinute, double? AnomalyThreshold);

    public sealed record BlocklistChange(IReadOnlyList<string?>? Cidrs);

    public sealed record AnomaliesView(DateTime From, DateTime To, string? CampaignId, double Threshold, IReadOnlyList<Anomaly> Anomalies);

    private static async Task<Ok<FraudRulesDocument>> GetRules(FraudSettingsStore store, CancellationToken ct) =>
        TypedResults.Ok(FraudRulesDocument.From(await store.ReadAsync(ct)));

    private static async Task<Results<Ok<FraudRulesDocument>, ProblemHttpResult>> PutRules(RulesChange change, FraudSettingsStore store, CancellationToken ct)
    {
        var (updated, error) = Apply(change, await store.ReadAsync(ct));
        if (updated is null) return Problems.BadRequest(error!, "The fraud rules are not valid");
        await store.UpdateAsync(updated, ct);
        return TypedResults.Ok(FraudRulesDocument.From(updated));
    }

    /// <summary>The rules in force with the fields the change names replaced, or why the change is not valid.</summary>
    private static (FraudSettings? Settings, string? Error) Apply(RulesChange change, FraudSettings current)
    {
        if (FraudSettings.Check(change.ClicksPerIpPerMinute, change.BotUserAgentPatterns, change.MinClickToConversionSeconds,
                change.ClicksPerUserPerMinute, change.AnomalyThreshold) is { } error)
            return (null, error);
        var blocklist = current.IpBlocklist;
        if (change.IpBlocklist is { } cidrs)
        {
            if (!FraudSettings.TryParseBlocklist(cidrs, out var parsed, out var listError)) return (null, $"ip_blocklist: {listError}");
            blocklist = parsed;
        }

        return (new FraudSettings(
            change.ClicksPerIpPerMinute ?? current.ClicksPerIpPerMinute,
            change.BotUserAgentPatterns is { } patterns ? [.. patterns.Select(p => p!)] : current.BotUserAgentPatterns,
            blocklist,
            change.MinClickToConversionSeconds ?? current.MinClickToConversionSeconds,
            change.ClicksPerUserPerMinute ?? current.ClicksPerUserPerMinute,
            change.AnomalyThreshold ?? current.AnomalyThreshold), null);
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

    private static async Task<Results<Ok<SummaryView>, ProblemHttpResult>> GetSummary(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, FlaggedEventStore flagged, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        var campaign = AnalyticsQuery.Optional(campaignId);
        var summary = await flagged.SummaryAsync(f, t, campaign, ct);
        return TypedResults.Ok(new SummaryView(f, t, campaign, [.. summary.Lines.Select(SummaryLineView.From)]));
    }

    private static async Task<Results<Ok<EventsView>, ProblemHttpResult>> GetEvents(
        string? from, string? to, string? rule, string? limit, FlaggedEventStore flagged, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        FraudRule? only = null;
        if (!string.IsNullOrEmpty(rule) && (only = FraudRules.TryParse(rule)) is null)
            return Problems.BadRequest($"'rule' must be one of {string.Join(", ", Enum.GetValues<FraudRule>().Select(r => r.ToWire()))}, got '{rule}'");
        var take = 100;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out take) || take is < 1 or > 1000))
            return Problems.BadRequest($"'limit' must be a whole number in [1, 1000], got '{limit}'");
        var events = await flagged.EventsAsync(f, t, only, take, ct);
        return TypedResults.Ok(new EventsView(f, t, only?.ToWire(), take, [.. events.Select(e => new FlaggedEventView(
            e.EventId, e.ImpressionId, e.Type.ToWire(), e.EventTime, e.CampaignId, [.. e.Rules.Select(r => r.ToWire())], e.SpendExcluded, e.RevenueExcluded))]));
    }

    private static async Task<Results<Ok<BacktestView>, ProblemHttpResult>> Backtest(
        BacktestRequest request, FraudSettingsStore store, FraudBacktest backtest, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(request.From, request.To, out var f, out var t) is { } error) return Problems.BadRequest(error);
        var (proposed, rulesError) = Apply(request.Rules ?? new RulesChange(null, null, null, null, null, null), await store.ReadAsync(ct));
        if (proposed is null) return Problems.BadRequest($"rules: {rulesError}", "The fraud rules are not valid");
        var outcome = await backtest.RunAsync(f, t, proposed, ct);
        if (outcome is null)
            return Problems.BadRequest(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the range holds more than {FraudBacktest.MaxImpressions:N0} impressions with events in it; backtest a shorter range"));
        return TypedResults.Ok(new BacktestView(f, t, outcome.Impressions, FraudRulesDocument.From(proposed),
            [.. outcome.Proposed.Lines.Select(SummaryLineView.From)], [.. outcome.InForce.Lines.Select(SummaryLineView.From)],
            [.. FraudSummary.Difference(outcome.Proposed, outcome.InForce).Select(SummaryLineView.From)],
            outcome.Samples.OrderBy(s => s.Key).ToDictionary(s => s.Key.ToWire(), s => (IReadOnlyList<string>)s.Value)));
    }

    private static async Task<Results<Ok<SeriesView>, ProblemHttpResult>> GetSeries(
        string? from, string? to, string? bucket, FlaggedEventStore flagged, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (bucket is not (null or "hour" or "day")) return Problems.BadRequest($"'bucket' must be hour or day, got '{bucket}'");
        var points = await flagged.SeriesAsync(f, t, bucket == "day", ct);
        var rules = points.SelectMany(p => p.Flagged.Keys).Distinct().Order(StringComparer.Ordinal).ToList();
        return TypedResults.Ok(new SeriesView(f, t, bucket ?? "hour", rules, [.. points.Select(p => new SeriesPointView(p.Bucket, p.Impressions, p.Flagged,
            rules.ToDictionary(r => r, r => p.Impressions == 0 ? (double?)null : (double)p.Flagged.GetValueOrDefault(r) / p.Impressions)))]));
    }
}
