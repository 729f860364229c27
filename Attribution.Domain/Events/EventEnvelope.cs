using System.Globalization;
using System.Text.Json.Nodes;

namespace Attribution.Domain.Events;

/// <summary>What the tracking API adds to an event before it goes to Kafka.</summary>
public static class EventEnvelope
{
    /// <summary>Fills the defaults of the tracking contract in place: a UUIDv7 event_id when absent, the
    /// upper-case event_type, event_timestamp = receipt time when absent, and ingest_timestamp (ms) = receipt
    /// time, always, so that a replay never changes lateness. Every other field is kept verbatim.</summary>
    public static JsonObject Normalize(JsonObject payload, DateTime receivedAtUtc)
    {
        // An event_id of another kind (an array, an object) is kept, for the parser to refuse: a new id would hide it.
        if (payload[EventFields.EventId] is not { } id || (id is JsonValue && string.IsNullOrWhiteSpace(id.ToString())))
        {
            payload[EventFields.EventId] = NewEventId();
        }

        if (payload[EventFields.EventType] is JsonValue type && type.TryGetValue<string>(out var typeText))
        {
            payload[EventFields.EventType] = typeText.ToUpperInvariant();
        }

        if (payload[EventFields.EventTimestamp] is null)
        {
            payload[EventFields.EventTimestamp] = JsonValue.Create(EventParser.ToUnixSeconds(EventParser.ToMicroseconds(receivedAtUtc)));
        }

        payload[EventFields.IngestTimestamp] = EventParser.ToUnixMilliseconds(receivedAtUtc);
        return payload;
    }

    /// <summary>Builds an event from tracking query parameters; numeric fields become JSON numbers when they
    /// parse, and stay text (to fail validation with a clear reason) when they do not.</summary>
    public static JsonObject FromQuery(IEnumerable<KeyValuePair<string, string?>> query, string eventType)
    {
        var payload = new JsonObject();
        foreach (var (key, value) in query)
        {
            if (value is null || payload.ContainsKey(key)) continue;
            payload[key] = EventFields.Numeric.Contains(key) &&
                           decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                ? JsonValue.Create(number)
                : JsonValue.Create(value);
        }

        payload[EventFields.EventType] = eventType;
        return payload;
    }

    /// <summary>Time-ordered ids keep the event store's unique index append-friendly.</summary>
    public static string NewEventId() => Guid.CreateVersion7().ToString();
}
