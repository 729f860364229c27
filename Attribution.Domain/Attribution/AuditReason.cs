namespace Attribution.Domain.Attribution;

/// <summary>Why an event did not count (or did not count in full).</summary>
public enum AuditReason
{
    /// <summary>The event_id was seen before; append-only.</summary>
    DuplicateEvent,

    /// <summary>The event failed validation; append-only.</summary>
    Invalid,

    /// <summary>Another IMPRESSION of the same impression_id came first.</summary>
    DuplicateImpression,

    /// <summary>No click precedes the conversion: view-through is not counted.</summary>
    NoPriorClick,

    /// <summary>The last click before the conversion is older than the lookback.</summary>
    OutOfWindow,

    /// <summary>An earlier eligible conversion already converted the impression.</summary>
    ExtraConversion,

    /// <summary>A postback names a click that is not known (yet).</summary>
    UnknownClickId,

    /// <summary>The event belongs to an impression whose history retention removed from the event store; it is kept
    /// in the audit trail and not folded onto what would be a partial history.</summary>
    RetiredImpression,

    /// <summary>A fraud rule flagged the event (design 004): a flagged impression is never billed and credits nothing,
    /// a flagged click is no click, a flagged conversion is not attributed.</summary>
    FraudSuspected,
}

public static class AuditReasons
{
    public static string ToWire(this AuditReason reason) => reason switch
    {
        AuditReason.DuplicateEvent => "DUPLICATE_EVENT",
        AuditReason.Invalid => "INVALID",
        AuditReason.DuplicateImpression => "DUPLICATE_IMPRESSION",
        AuditReason.NoPriorClick => "NO_PRIOR_CLICK",
        AuditReason.OutOfWindow => "OUT_OF_WINDOW",
        AuditReason.ExtraConversion => "EXTRA_CONVERSION",
        AuditReason.UnknownClickId => "UNKNOWN_CLICK_ID",
        AuditReason.RetiredImpression => "RETIRED_IMPRESSION",
        AuditReason.FraudSuspected => "FRAUD_SUSPECTED",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public static AuditReason? TryParse(string? wire) =>
        Enum.GetValues<AuditReason>().Cast<AuditReason?>().FirstOrDefault(r => r!.Value.ToWire() == wire?.ToUpperInvariant());

    // Rule 9 (order independence): outcomes that depend on the impression's other events are recomputed on every
    // fold and replace the impression's earlier ones; the rest are facts about one delivery and only appended.
    public static bool IsDerived(this AuditReason reason) => reason is AuditReason.DuplicateImpression
        or AuditReason.NoPriorClick or AuditReason.OutOfWindow or AuditReason.ExtraConversion or AuditReason.FraudSuspected;

    public static IReadOnlyList<string> DerivedWire { get; } =
        Enum.GetValues<AuditReason>().Where(r => r.IsDerived()).Select(r => r.ToWire()).ToArray();
}
