using System.Text.Json;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using JasperFx.Events;
using Marten;

namespace Attribution.Projections.EventStore;

/// <summary>One impression's stream as Marten reads it, for the query side: its events with their metadata, and the
/// domain aggregate Marten folds from them (live aggregation through <see cref="ImpressionProjection"/>).</summary>
public sealed class ImpressionHistory(IDocumentStore store)
{
    /// <summary>The stream's events in version order; none for an impression never seen or retired (archived).</summary>
    public async Task<List<StoredEvent>> EventsAsync(string impressionId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        if (await session.Events.FetchStreamStateAsync(impressionId, ct) is not { IsArchived: false }) return [];
        var events = await session.Events.FetchStreamAsync(impressionId, token: ct);
        return events.Select(Stored).ToList();
    }

    /// <summary>The impression's aggregate, or null for an impression never seen or retired (archived).</summary>
    public async Task<ImpressionAggregate?> AggregateAsync(string impressionId, CancellationToken ct)
    {
        await using var session = store.QuerySession();
        if (await session.Events.FetchStreamStateAsync(impressionId, ct) is not { IsArchived: false }) return null;
        return await session.Events.AggregateStreamAsync<ImpressionAggregate>(impressionId, token: ct);
    }

    public static StoredEvent Stored(IEvent e) => new(
        (AdEvent)e.Data, (int)e.Version, e.Sequence,
        Header(e, EventHeaders.KafkaPartition) is { ValueKind: JsonValueKind.Number } p ? p.GetInt32() : null,
        Header(e, EventHeaders.KafkaOffset) is { ValueKind: JsonValueKind.Number } o ? o.GetInt64() : null,
        Header(e, EventHeaders.RawPayload) is { ValueKind: JsonValueKind.String } raw ? raw.GetString()! : "{}");

    private static JsonElement? Header(IEvent e, string name) =>
        e.Headers?.TryGetValue(name, out var value) == true ? value switch
        {
            JsonElement element => element,
            null => null,
            _ => JsonSerializer.SerializeToElement(value),
        } : null;
}
