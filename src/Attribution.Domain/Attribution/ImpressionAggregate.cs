using Attribution.Domain.Events;

namespace Attribution.Domain.Attribution;

/// <summary>What became of one event when its impression was folded.</summary>
public sealed record EventOutcome(AdEvent Event, AuditReason? Reason, string? Detail, AdClicked? AttributedClick)
{
    public bool Applied => Reason is null;

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
            Apply(e);
        }
    }

    public string ImpressionId { get; }

    public IReadOnlyCollection<AdEvent> Events => _events.Values;

    // Rule 1 (dedup): event_id is the idempotency key; a known event_id changes nothing.
    public bool Apply(AdEvent e) => _events.TryAdd(e.EventId, e);

    public ImpressionFold Fold(AttributionPolicy policy) => Fold(ImpressionId, _events.Values, policy);

    public static ImpressionFold Fold(string impressionId, IEnumerable<AdEvent> events, AttributionPolicy policy)
    {
        var ordered = events.OrderBy(e => e.EventTime).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        var outcomes = new Dictionary<string, EventOutcome>(StringComparer.Ordinal);

        // Rule 3 (impression of record): the earliest IMPRESSION by event time, ties by the smaller event_id.
        var impressions = ordered.OfType<ImpressionServed>().ToList();
        var impression = impressions.FirstOrDefault();
        foreach (var other in impressions.Skip(1))
        {
            outcomes[other.EventId] = new EventOutcome(other, AuditReason.DuplicateImpression,
                $"impression {impression!.EventId} at {Iso(impression.EventTime)} is the impression of record", null);
        }

        // Rule 4 (clicks): every valid click counts; click_time is the latest one.
        var clicks = ordered.OfType<AdClicked>().ToList();

        // Rules 5 and 6 (last click within the lookback; first eligible conversion only).
        ConversionReported? credited = null;
        var revenueOutOfWindow = 0m;
        var conversions = ordered.OfType<ConversionReported>().ToList();
        foreach (var conversion in conversions)
        {
            var click = clicks.LastOrDefault(c => c.EventTime <= conversion.EventTime);
            if (click is null)
            {
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.NoPriorClick,
                    $"no click at or before {Iso(conversion.EventTime)}; view-through is not counted", null);
            }
            else if (conversion.EventTime - click.EventTime > policy.Lookback)
            {
                revenueOutOfWindow += conversion.ConversionValue;
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.OutOfWindow,
                    $"{Durations.Format(conversion.EventTime - click.EventTime)} after click {click.EventId}, beyond the {Durations.Format(policy.Lookback)} lookback",
                    click);
            }
            else if (credited is null)
            {
                credited = conversion;
                outcomes[conversion.EventId] = new EventOutcome(conversion, null, null, click);
            }
            else
            {
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.ExtraConversion,
                    $"impression already converted by {credited.EventId} at {Iso(credited.EventTime)}", click);
            }
        }

        var all = ordered.Select(e => outcomes.TryGetValue(e.EventId, out var o) ? o : new EventOutcome(e, null, null, null)).ToList();

        // Rule 7 (lateness): an applied event is late when it reached us more than the threshold after it happened.
        var lateBy = all.Where(o => o.Applied && o.Event.Lateness > policy.LateThreshold)
            .Select(o => (long?)(o.Event.Lateness.Ticks / TimeSpan.TicksPerMillisecond))
            .Max();

        var gold = new GoldState(
            impressionId,
            impression?.CampaignId,
            impression?.CreativeId,
            impression?.UserId,
            impression?.GeoCountry,
            impression?.Platform,
            IsClicked: clicks.Count > 0,
            IsConverted: credited is not null,
            ImpressionTime: impression?.EventTime,
            ClickTime: clicks.Count > 0 ? clicks[^1].EventTime : null,
            ConversionTime: credited?.EventTime,
            Cost: impression?.BidPrice ?? 0m,
            Revenue: credited?.ConversionValue ?? 0m,
            // Rule 8 (eligible): false only when the impression has conversions and none of them is eligible.
            Eligible: conversions.Count == 0 || credited is not null,
            IsLate: lateBy is not null,
            LateByMs: lateBy ?? 0,
            RevenueOutOfWindow: revenueOutOfWindow);
        return new ImpressionFold(gold, all);
    }

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFZ", System.Globalization.CultureInfo.InvariantCulture);
}
