using Attribution.Domain.Events;

namespace Attribution.Domain.Attribution;

public sealed record ExplainedEvent(
    string EventId,
    string EventType,
    DateTime EventTime,
    DateTime IngestTime,
    string Outcome,
    string? Detail,
    bool Late,
    string? AttributedClickId,
    double? SecondsAfterClick,
    string? Summary);

public sealed record Explanation(
    string ImpressionId,
    double LookbackSeconds,
    double LateThresholdSeconds,
    string Window,
    IReadOnlyList<ExplainedEvent> Events);

/// <summary>Says, per event of an impression, why it counted or did not.</summary>
public static class Explainer
{
    public const string Applied = "applied";

    public static Explanation Explain(ImpressionFold fold, AttributionPolicy policy)
    {
        var events = fold.Outcomes
            .Select(o => new ExplainedEvent(
                o.Event.EventId,
                o.Event.Type.ToWire(),
                o.Event.EventTime,
                o.Event.IngestTime,
                o.Reason?.ToWire() ?? Applied,
                o.Detail,
                o.Event.Lateness > policy.LateThreshold,
                o.AttributedClick?.EventId,
                o.ClickToConversion?.TotalSeconds,
                o.Event is ConversionReported ? Summarise(o, policy) : null))
            .ToList();
        return new Explanation(fold.Gold.ImpressionId, policy.Lookback.TotalSeconds, policy.LateThreshold.TotalSeconds,
            $"last click, {Durations.Format(policy.Lookback)} lookback, late after {Durations.Format(policy.LateThreshold)}",
            events);
    }

    private static string Summarise(EventOutcome o, AttributionPolicy policy) => o.Reason switch
    {
        null => $"credited to click {o.AttributedClick!.EventId} {Durations.Format(o.ClickToConversion!.Value)} earlier",
        AuditReason.NoPriorClick => "no click before this conversion",
        AuditReason.OutOfWindow =>
            $"{Durations.Format(o.ClickToConversion!.Value)} after the last click, beyond the {Durations.Format(policy.Lookback)} window",
        AuditReason.ExtraConversion => $"not credited: {o.Detail}",
        _ => o.Detail ?? o.Reason.Value.ToWire(),
    };
}
