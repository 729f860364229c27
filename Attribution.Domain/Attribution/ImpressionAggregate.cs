using Attribution.Domain.Events;
using Attribution.Domain.Fraud;

namespace Attribution.Domain.Attribution;

/// <summary>What became of one event when its impression was folded.</summary>
public sealed record EventOutcome(AdEvent Event, AuditReason? Reason, string? Detail, AdClicked? AttributedClick)
{
    public bool Applied => Reason is null;

    /// <summary>The fraud rules behind a <see cref="AuditReason.FraudSuspected"/> outcome (for a conversion of a flagged
    /// impression, the impression's).</summary>
    public IReadOnlyList<FraudRule> FraudRules { get; init; } = [];

    /// <summary>Conversion minus attributed click time, for conversions that found a click.</summary>
    public TimeSpan? ClickToConversion => AttributedClick is null ? null : Event.EventTime - AttributedClick.EventTime;
}

public sealed record ImpressionFold(GoldState Gold, IReadOnlyList<EventOutcome> Outcomes)
{
    public IEnumerable<EventOutcome> Audited => Outcomes.Where(o => !o.Applied);
}

/// <summary>
/// The per-impression aggregate. It holds every accepted event of one impression_id and derives Gold state and the
/// audit outcomes from that set alone, so the result never depends on arrival order (rule 9).
/// </summary>
public sealed class ImpressionAggregate
{
    private readonly Dictionary<string, AdEvent> _events = new(StringComparer.Ordinal);

    public ImpressionAggregate(string impressionId, IEnumerable<AdEvent>? history = null)
    {
        ImpressionId = impressionId;
        foreach (var e in history ?? [])
        {
            Record(e);
        }
    }

    public string ImpressionId { get; init; }

    public IReadOnlyCollection<AdEvent> Events => _events.Values;

    // Rule 1 (dedup): event_id is the idempotency key; a known event_id changes nothing.
    public bool Record(AdEvent e) => _events.TryAdd(e.EventId, e);

    public ImpressionFold Fold(AttributionPolicy policy, IReadOnlyDictionary<string, FraudRule[]>? clickFlags = null) =>
        Fold(ImpressionId, _events.Values, policy, clickFlags);

    /// <summary>
    /// One pass over the events in event-time order. The pipeline folds every impression a batch touches, most of
    /// them holding one to three events, so the fold allocates what it returns and little else: per-rule LINQ queries
    /// cost more than the rules themselves and turned into garbage collections that stopped the whole consumer.
    /// </summary>
    public static ImpressionFold Fold(string impressionId, IEnumerable<AdEvent> events, AttributionPolicy policy,
        IReadOnlyDictionary<string, FraudRule[]>? clickFlags = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var ordered = InEventTimeOrder(events);
        var outcomes = new EventOutcome[ordered.Length];
        // Rule 3 (impression of record): the earliest IMPRESSION by event time, ties by the smaller event_id.
        ImpressionServed? impression = null;
        foreach (var e in ordered)
        {
            if (e is ImpressionServed served)
            {
                impression = served;
                break;
            }
        }

        var flags = FraudFlags.Of(ordered, impression, policy.Fraud, clickFlags);
        var impressionRules = impression is null ? null : flags?[Array.IndexOf(ordered, impression)];
        AdClicked? lastClick = null;
        ConversionReported? credited = null;
        var conversions = 0;
        var clicks = 0;
        var invalidClicks = 0;
        var revenueOutOfWindow = 0m;
        for (var i = 0; i < ordered.Length; i++)
        {
            var e = ordered[i];
            if (e is ImpressionServed duplicate && !ReferenceEquals(duplicate, impression))
            {
                outcomes[i] = new EventOutcome(duplicate, AuditReason.DuplicateImpression,
                    $"impression {impression!.EventId} at {Iso(impression.EventTime)} is the impression of record", null);
                continue;
            }

            if (e is ConversionReported) conversions++;
            // Design 004 (fraud): a flagged impression is never billed and credits no conversion, a flagged click is
            // no click, a flagged conversion is not attributed.
            if (flags?[i] is { } rules)
            {
                if (e is AdClicked) invalidClicks++;
                outcomes[i] = new EventOutcome(e, AuditReason.FraudSuspected, FraudFlags.Detail(rules), null) { FraudRules = rules };
                continue;
            }

            switch (e)
            {
                // Rule 4 (clicks): every valid click counts; click_time is the latest one.
                case AdClicked click:
                    lastClick = click;
                    clicks++;
                    break;
                case ConversionReported conversion when impressionRules is not null:
                    outcomes[i] = new EventOutcome(conversion, AuditReason.FraudSuspected,
                        $"the impression is flagged ({FraudFlags.Detail(impressionRules)}) and credits no conversion", null) { FraudRules = impressionRules };
                    continue;
                case ConversionReported conversion:
                    outcomes[i] = Attribute(conversion, LastClickAtOrBefore(ordered, i, flags), policy, ref credited, ref revenueOutOfWindow);
                    continue;
            }

            outcomes[i] = new EventOutcome(e, null, null, null);
        }

        // Rule 7 (lateness): an applied event is late when it reached us more than the threshold after it happened.
        long? lateBy = null;
        foreach (var o in outcomes)
        {
            if (o.Applied && o.Event.Lateness > policy.LateThreshold)
                lateBy = Math.Max(lateBy ?? long.MinValue, o.Event.Lateness.Ticks / TimeSpan.TicksPerMillisecond);
        }

        var gold = new GoldState(
            impressionId,
            impression?.CampaignId,
            impression?.CreativeId,
            impression?.UserId,
            impression?.GeoCountry,
            impression?.Platform,
            IsClicked: lastClick is not null,
            IsConverted: credited is not null,
            ImpressionTime: impression?.EventTime,
            ClickTime: lastClick?.EventTime,
            ConversionTime: credited?.EventTime,
            Cost: impression?.BidPrice ?? 0m,
            Revenue: credited?.ConversionValue ?? 0m,
            // Rule 8 (eligible): false only when the impression has conversions and none of them is eligible.
            Eligible: conversions == 0 || credited is not null,
            IsLate: lateBy is not null,
            LateByMs: lateBy ?? 0,
            RevenueOutOfWindow: revenueOutOfWindow)
        {
            ClickCount = clicks,
            InvalidClickCount = invalidClicks,
            FraudSuspected = impressionRules is not null,
            FraudReasons = FraudFlags.Reasons(flags, outcomes),
        };
        return new ImpressionFold(gold, outcomes);
    }

    // Rules 5 and 6 (last click within the lookback; first eligible conversion only), for conversions in event-time order.
    private static EventOutcome Attribute(
        ConversionReported conversion, AdClicked? click, AttributionPolicy policy, ref ConversionReported? credited, ref decimal revenueOutOfWindow)
    {
        if (click is null)
        {
            return new EventOutcome(conversion, AuditReason.NoPriorClick,
                $"no click at or before {Iso(conversion.EventTime)}; view-through is not counted", null);
        }

        if (conversion.EventTime - click.EventTime > policy.Lookback)
        {
            revenueOutOfWindow += conversion.ConversionValue;
            return new EventOutcome(conversion, AuditReason.OutOfWindow,
                $"{Durations.Format(conversion.EventTime - click.EventTime)} after click {click.EventId}, beyond the {Durations.Format(policy.Lookback)} lookback",
                click);
        }

        // Design 004 (fraud: click injection): a conversion too soon after the click it would be credited to.
        if (FraudRules.IsJudged(click) && ClickToConversionTooFast.Flags(conversion.EventTime, click.EventTime, policy.Fraud))
        {
            return new EventOutcome(conversion, AuditReason.FraudSuspected,
                $"{FraudRule.ClickToConversionTooFast.ToWire()}: {Durations.Format(conversion.EventTime - click.EventTime)} after click {click.EventId}, " +
                $"under the {Durations.Format(policy.Fraud.MinClickToConversion)} minimum", click) { FraudRules = [FraudRule.ClickToConversionTooFast] };
        }

        if (credited is null)
        {
            credited = conversion;
            return new EventOutcome(conversion, null, null, click);
        }

        return new EventOutcome(conversion, AuditReason.ExtraConversion,
            $"impression already converted by {credited.EventId} at {Iso(credited.EventTime)}", click);
    }

    /// <summary>The last valid click whose time is at or before the event at <paramref name="index"/>: clicks at the same
    /// instant count even when their event_id sorts them after it; a click a fraud rule flagged is never credited.</summary>
    private static AdClicked? LastClickAtOrBefore(AdEvent[] ordered, int index, FraudRule[]?[]? flags)
    {
        var end = index;
        while (end + 1 < ordered.Length && ordered[end + 1].EventTime == ordered[index].EventTime) end++;
        for (var j = end; j >= 0; j--)
        {
            if (ordered[j] is AdClicked click && flags?[j] is null) return click;
        }

        return null;
    }

    /// <summary>Event time, ties by event_id (ordinal): the order every rule reads events in, whatever order they
    /// arrived in (rule 9). Stable, as the result of equal keys must not depend on arrival either.</summary>
    private static AdEvent[] InEventTimeOrder(IEnumerable<AdEvent> events)
    {
        var ordered = events.ToArray();
        // Insertion sort: stable, allocation-free, and the fastest sort for the few events an impression holds.
        if (ordered.Length > 32) return [.. ordered.OrderBy(e => e.EventTime).ThenBy(e => e.EventId, StringComparer.Ordinal)];
        for (var i = 1; i < ordered.Length; i++)
        {
            var e = ordered[i];
            var j = i - 1;
            for (; j >= 0 && Compare(ordered[j], e) > 0; j--) ordered[j + 1] = ordered[j];
            ordered[j + 1] = e;
        }

        return ordered;
    }

    private static int Compare(AdEvent a, AdEvent b)
    {
        var byTime = a.EventTime.CompareTo(b.EventTime);
        return byTime != 0 ? byTime : string.CompareOrdinal(a.EventId, b.EventId);
    }

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFZ", System.Globalization.CultureInfo.InvariantCulture);
}
