using Attribution.Domain.Metrics;

namespace Attribution.Domain.Attribution;

/// <summary>Additive sums of one campaign's Gold rows: what its comparable figures derive from.</summary>
public sealed record CampaignTotals(long Conversions, decimal Revenue, decimal RevenueOutOfWindow, decimal Cost)
{
    public static CampaignTotals Zero { get; } = new(0, 0m, 0m, 0m);
}

/// <summary>A campaign's figures under one rule set, or the difference between two.</summary>
public sealed record CampaignFigures(long Conversions, decimal Revenue, decimal RevenueOutOfWindow, double? Roas);

public sealed record CampaignComparison(string? CampaignId, CampaignFigures Live, CampaignFigures WhatIf, CampaignFigures Delta);

/// <summary>What Gold says about an impression's attribution: the fields a rule set can change.</summary>
public sealed record ImpressionOutcome(
    bool IsConverted, DateTime? ConversionTime, decimal Revenue, decimal RevenueOutOfWindow, bool Eligible, bool IsLate, long LateByMs)
{
    /// <summary>An impression live Gold does not hold: nothing attributed.</summary>
    public static ImpressionOutcome None { get; } = new(false, null, 0m, 0m, true, false, 0);
}

/// <summary>How one event fared under one rule set, in the explain endpoint's words.</summary>
public sealed record EventVerdict(string Outcome, bool Late, string? Summary);

public sealed record EventChange(string EventId, string EventType, EventVerdict Live, EventVerdict WhatIf);

/// <summary>An impression whose outcome differs between live Gold and the what-if, and the events that explain it.</summary>
public sealed record ChangedImpression(
    string ImpressionId,
    string? CampaignId,
    string LiveRules,
    string WhatIfRules,
    ImpressionOutcome Live,
    ImpressionOutcome WhatIf,
    IReadOnlyList<EventChange> Events);

/// <summary>What-if replays: the same events folded under other rules, compared with live Gold.</summary>
public static class WhatIf
{
    /// <summary>How many changed impressions a diff explains; the rest are counted.</summary>
    public const int ExplainedImpressions = 50;

    // Same definitions as the metrics endpoints: conversions and money are Gold's sums, ROAS = revenue / cost.
    public static CampaignFigures Figures(CampaignTotals t) =>
        new(t.Conversions, t.Revenue, t.RevenueOutOfWindow, PerformanceMetrics.RoasOf(t.Revenue, t.Cost));

    // Delta = what-if − live, figure by figure; a ROAS missing on either side (no cost) has no delta.
    public static CampaignFigures Delta(CampaignFigures live, CampaignFigures whatIf) =>
        new(whatIf.Conversions - live.Conversions, whatIf.Revenue - live.Revenue, whatIf.RevenueOutOfWindow - live.RevenueOutOfWindow,
            live.Roas is { } l && whatIf.Roas is { } w ? w - l : null);

    // Every campaign either side holds, by campaign id (ordinal, no campaign first); a side without it counts zero.
    public static IReadOnlyList<CampaignComparison> Compare(
        IEnumerable<(string? CampaignId, CampaignTotals Totals)> live, IEnumerable<(string? CampaignId, CampaignTotals Totals)> whatIf)
    {
        var liveByCampaign = live.ToLookup(x => x.CampaignId, x => x.Totals);
        var whatIfByCampaign = whatIf.ToLookup(x => x.CampaignId, x => x.Totals);
        return liveByCampaign.Select(g => g.Key).Concat(whatIfByCampaign.Select(g => g.Key)).Distinct().Order(StringComparer.Ordinal)
            .Select(campaign =>
            {
                var l = Figures(liveByCampaign[campaign].DefaultIfEmpty(CampaignTotals.Zero).Aggregate(Add));
                var w = Figures(whatIfByCampaign[campaign].DefaultIfEmpty(CampaignTotals.Zero).Aggregate(Add));
                return new CampaignComparison(campaign, l, w, Delta(l, w));
            })
            .ToList();
    }

    // The outcome is Gold's attribution fields; an impression missing from live Gold has attributed nothing.
    public static ImpressionOutcome Outcome(GoldState? gold) => gold is null
        ? ImpressionOutcome.None
        : new(gold.IsConverted, gold.ConversionTime, gold.Revenue, gold.RevenueOutOfWindow, gold.Eligible, gold.IsLate, gold.LateByMs);

    // An impression changed when any attribution field of its Gold row differs between live and what-if.
    public static bool OutcomeChanged(GoldState? live, GoldState whatIf) => Outcome(live) != Outcome(whatIf);

    /// <summary>
    /// Why an impression's outcome changed: each rule set's window, both outcomes, and the events whose outcome or
    /// lateness differs, with the explain sentence of each (live Gold's outcome; the live sentences come from a fold
    /// under the live rules, which is what live Gold holds unless the config changed without a replay).
    /// </summary>
    public static ChangedImpression Explain(
        GoldState? live, ImpressionFold liveFold, AttributionPolicy livePolicy, ImpressionFold whatIfFold, AttributionPolicy whatIfPolicy)
    {
        ArgumentNullException.ThrowIfNull(liveFold);
        ArgumentNullException.ThrowIfNull(whatIfFold);
        var before = Explainer.Explain(liveFold, livePolicy);
        var after = Explainer.Explain(whatIfFold, whatIfPolicy);
        var afterById = after.Events.ToDictionary(e => e.EventId, StringComparer.Ordinal);
        // An event's verdict changed when its outcome or its lateness differs; a sentence that only names the other
        // window ("beyond the 3 d 0 h window" for an event out of both) is no change.
        var events = before.Events
            .Where(b => afterById.TryGetValue(b.EventId, out var a) && (a.Outcome != b.Outcome || a.Late != b.Late))
            .Select(b => new EventChange(b.EventId, b.EventType, Verdict(b), Verdict(afterById[b.EventId])))
            .ToList();
        return new ChangedImpression(whatIfFold.Gold.ImpressionId, whatIfFold.Gold.CampaignId ?? live?.CampaignId, before.Window, after.Window,
            Outcome(live), Outcome(whatIfFold.Gold), events);
    }

    private static EventVerdict Verdict(ExplainedEvent e) => new(e.Outcome, e.Late, e.Summary);

    private static CampaignTotals Add(CampaignTotals a, CampaignTotals b) =>
        new(a.Conversions + b.Conversions, a.Revenue + b.Revenue, a.RevenueOutOfWindow + b.RevenueOutOfWindow, a.Cost + b.Cost);
}
