using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Domain.Events;
using Attribution.Projections.Ingest;
using Attribution.Projections.Observability;

namespace Attribution.Api.Tracking;

/// <summary>One event of a batch that was refused, with its position in the request.</summary>
public sealed record RejectedEvent(int Index, string? EventId, string Error);

public sealed record BatchAccepted(int Accepted, IReadOnlyList<RejectedEvent> Rejected);

/// <summary>An event ready for Kafka: its key, its normalized JSON, and what validation said of it.</summary>
public sealed record OutgoingEvent(string? Key, byte[] Value, EventParseResult Validation);

/// <summary>Stamps, validates and serializes tracking events, and spools them on their way to Kafka.</summary>
public sealed class TrackingIngest(EventSpool spool, PipelineMetrics metrics, TimeProvider clock)
{
    public OutgoingEvent Prepare(JsonObject payload)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        EventEnvelope.Normalize(payload, now);
        return Validated(JsonSerializer.SerializeToUtf8Bytes(payload), now);
    }

    /// <summary>The event of a tracking URL (pixel, click): its query parameters and the endpoint's event type.</summary>
    public OutgoingEvent PrepareFromQuery(IEnumerable<KeyValuePair<string, string?>> query, string eventType, ObservedClient client)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return Validated(EventEnvelope.FromQuery(query, eventType, now, client), now);
    }

    private static OutgoingEvent Validated(byte[] json, DateTime now)
    {
        var validation = EventParser.Parse(json, null, now);
        var key = validation.Event?.ImpressionId ?? (validation.Event as ConversionReported)?.ClickId;
        return new OutgoingEvent(key, json, validation);
    }

    public void Count(string endpoint, EventParseResult validation) =>
        metrics.EventsReceived.WithLabels(validation.Event?.Type.ToWire() ?? "INVALID", endpoint).Inc();

    /// <summary>Parses a batch body: a JSON array, or NDJSON (one event per line). Every element that is not a
    /// valid event is still written to Kafka, so the consumer records it in the audit trail as INVALID.</summary>
    public (List<OutgoingEvent> Events, List<RejectedEvent> Rejected) PrepareBatch(byte[] body, bool ndjson)
    {
        var events = new List<OutgoingEvent>();
        var rejected = new List<RejectedEvent>();
        var items = ndjson ? SplitLines(body) : SplitArray(body);
        var index = 0;
        foreach (var (node, raw, error) in items)
        {
            OutgoingEvent outgoing;
            if (node is JsonObject obj)
            {
                outgoing = Prepare(obj);
            }
            else
            {
                // Not an event object: its bytes go to Kafka verbatim, so the consumer audits it as INVALID too.
                var detail = error ?? $"an event must be a JSON object, not {node?.GetValueKind().ToString() ?? "null"}";
                outgoing = new OutgoingEvent(null, raw,
                    new EventParseResult(null, new EventRejection(null, null, null, detail)));
            }

            events.Add(outgoing);
            if (outgoing.Validation.Rejection is { } r) rejected.Add(new RejectedEvent(index, r.EventId, r.Detail));
            index++;
        }

        return (events, rejected);
    }

    /// <summary>Writes the events to the spool and returns once they are on disk (the forwarder takes them to Kafka);
    /// returns why they could not be stored, or null once they are.</summary>
    public async Task<string?> TrySendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        try
        {
            var records = new SpooledRecord[events.Count];
            for (var i = 0; i < records.Length; i++) records[i] = new SpooledRecord(events[i].Key, events[i].Value);
            await spool.AppendAsync(records, ct);
            return null;
        }
        catch (SpoolUnavailableException e)
        {
            return e.Message;
        }
        catch (ArgumentException e)
        {
            throw new BadHttpRequestException(e.Message, StatusCodes.Status413PayloadTooLarge);
        }
    }

    /// <summary>Parses a JSON text sent as events. JsonNode reads lazily: bytes that are not UTF-8, a name given twice
    /// in an object and an escaped lone surrogate would otherwise fail later (stamping or serializing the event, a
    /// 500) instead of here, where they are the sender's error.</summary>
    public static JsonNode? Parse(ReadOnlySpan<byte> utf8)
    {
        EventParser.CheckText(utf8);
        return JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
    }

    // Raw: the bytes that go to Kafka for an item that is not an event object (an object is stamped and serialized).
    private static IEnumerable<(JsonNode? Node, byte[] Raw, string? Error)> SplitArray(byte[] body)
    {
        JsonNode? root;
        try
        {
            root = Parse(body);
        }
        catch (JsonException e)
        {
            throw new BadHttpRequestException($"The body is not valid JSON: {e.Message}");
        }

        if (root is JsonObject single)
        {
            yield return (single, [], null);
            yield break;
        }

        if (root is not JsonArray array)
            throw new BadHttpRequestException("The body must be a JSON array of events, or NDJSON with Content-Type application/x-ndjson");
        foreach (var item in array.ToList())
        {
            array.Remove(item);
            yield return (item, item is JsonObject ? [] : Encoding.UTF8.GetBytes(item?.ToJsonString() ?? "null"), null);
        }
    }

    private static IEnumerable<(JsonNode? Node, byte[] Raw, string? Error)> SplitLines(byte[] body)
    {
        var start = 0;
        while (start < body.Length)
        {
            var end = Array.IndexOf(body, (byte)'\n', start);
            if (end < 0) end = body.Length;
            var line = body.AsMemory(start, end - start);
            line = line[Ascii.Trim(line.Span)];
            start = end + 1;
            if (line.IsEmpty) continue;
            // Each line on its own: one that is not UTF-8 is one invalid event, its bytes kept as they came so
            // that the consumer refuses them too (decoded, they could read as a valid event).
            JsonNode? node = null;
            string? error = null;
            try
            {
                node = Parse(line.Span);
            }
            catch (JsonException e)
            {
                error = $"line is not valid JSON: {e.Message}";
            }

            yield return (node, node is JsonObject ? [] : line.ToArray(), error);
        }
    }
}
