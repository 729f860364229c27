namespace Attribution.Domain.Events;

/// <summary>The upper-case wire names of event types, the only spelling that is stored.</summary>
public static class EventTypeNames
{
    public const string Impression = "IMPRESSION";
    public const string Click = "CLICK";
    public const string Conversion = "CONVERSION";

    public static string ToWire(this AdEventType type) => type switch
    {
        AdEventType.Impression => Impression,
        AdEventType.Click => Click,
        AdEventType.Conversion => Conversion,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Case-insensitive in, as the tracking contract promises.</summary>
    public static AdEventType? TryParse(string? name) => name?.ToUpperInvariant() switch
    {
        Impression => AdEventType.Impression,
        Click => AdEventType.Click,
        Conversion => AdEventType.Conversion,
        _ => null,
    };
}
