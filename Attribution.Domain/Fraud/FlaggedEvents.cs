using Attribution.Domain.Attribution;
using Attribution.Domain.Events;

namespace Attribution.Domain.Fraud;

/// <summary>One event a fraud rule flagged, with what its flag took out of the figures.</summary>
/// <param name="SpendExcluded">A flagged impression's bid price: it is never billed.</param>
/// <param name="RevenueExcluded">Revenue the impression credits without the rules and not with them, on the event
/// whose flag took it (the conversion, else the click it would have been credited to).</param>
public sealed record FlaggedEvent(
    string EventId, string ImpressionId, AdEventType Type, DateTime EventTime, string? CampaignId,
    IReadOnlyList<FraudRule> Rules, decimal SpendExcluded, decimal RevenueExcluded);

public static class FlaggedEvents
{
    /// <summary>
    /// The flagged events of one folded impression. Design 004 (fraud effects): what the rules exclude is measured
    /// against the same impression judged by no rule, which is how an impression whose events carry no client
    /// (no ip_address, no user_agent) is judged, so the excluded revenue is exact rather than each flagged
    /// conversion's value (of which the impression would have credited one at most).
    /// </summary>
    public static List<FlaggedEvent> Of(ImpressionFold fold, IEnumerable<AdEvent> events, AttributionPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(fold);
        ArgumentNullException.ThrowIfNull(events);
        var flagged = fold.Outcomes.Where(o => o.FraudRules.Count > 0).ToList();
        if (flagged.Count == 0) return [];

        var gold = fold.Gold;
        var unjudged = ImpressionAggregate.Fold(gold.ImpressionId, events.Select(e => e with { IpAddress = null, UserAgent = null }), policy);
        var lostRevenue = unjudged.Gold.Revenue - gold.Revenue;
        // The event whose flag cost the impression its credited conversion.
        string? costOf = null;
        if (lostRevenue != 0 && unjudged.Outcomes.FirstOrDefault(o => o.Applied && o.Event is ConversionReported) is { } credited)
        {
            costOf = flagged.Any(f => f.Event.EventId == credited.Event.EventId) ? credited.Event.EventId
                : credited.AttributedClick is { } click && flagged.Any(f => f.Event.EventId == click.EventId) ? click.EventId
                : flagged.FirstOrDefault(f => f.Event is ImpressionServed)?.Event.EventId;
        }

        return flagged.ConvertAll(o => new FlaggedEvent(
            o.Event.EventId, gold.ImpressionId, o.Event.Type, o.Event.EventTime, gold.CampaignId, o.FraudRules,
            o.Event is ImpressionServed served ? served.BidPrice : 0m,
            o.Event.EventId == costOf ? lostRevenue : 0m));
    }
}
