using Attribution.Projections.Schema;
using Npgsql;

namespace Attribution.Projections.EventStore;

public static class EventStoreReader
{
    /// <summary>Every stored event of the given impressions, each stream in version order.</summary>
    public static async Task<Dictionary<string, List<StoredEvent>>> LoadStreamsAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<string> streamIds, CancellationToken ct)
    {
        var streams = new Dictionary<string, List<StoredEvent>>(StringComparer.Ordinal);
        if (streamIds.Count == 0) return streams;
        await using var cmd = new NpgsqlCommand(
            $"SELECT {StoredEvents.Columns} FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, stream_version", conn, tx);
        cmd.Parameters.Add(new() { Value = streamIds.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var stored = StoredEvents.Read(reader);
            var id = stored.Event.ImpressionId!;
            if (!streams.TryGetValue(id, out var list)) streams[id] = list = [];
            list.Add(stored);
        }

        return streams;
    }

    /// <summary>Which of these event ids the store (or the postbacks waiting for their click, or retention's list of
    /// retired ids) already holds.</summary>
    public static async Task<HashSet<string>> KnownEventIdsAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<string> eventIds, CancellationToken ct)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        if (eventIds.Count == 0) return known;
        // Marten's unique index on its event id is the dedup index: archived (retired) events keep their row there.
        await using var cmd = new NpgsqlCommand("""
            SELECT data->>'event_id' FROM mt_events WHERE id = ANY($2)
            UNION ALL
            SELECT event_id FROM pending_conversions WHERE event_id = ANY($1)
            UNION ALL
            SELECT event_id FROM retired_event_ids WHERE event_id = ANY($1)
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = ProbeKeys.Sorted(eventIds) });
        cmd.Parameters.Add(new() { Value = MartenIds(eventIds) });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) known.Add(reader.GetString(0));
        return known;
    }

    /// <summary>The impression each of these click ids belongs to, for the clicks already stored (or retired).</summary>
    public static async Task<Dictionary<string, string>> ClickImpressionsAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyCollection<string> clickIds, CancellationToken ct)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (clickIds.Count == 0) return map;
        await using var cmd = new NpgsqlCommand("""
            SELECT data->>'event_id', stream_id FROM mt_events WHERE id = ANY($2) AND type = $3
            UNION ALL
            SELECT event_id, impression_id FROM retired_event_ids WHERE event_id = ANY($1) AND event_type = 'CLICK'
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = clickIds.ToArray() });
        cmd.Parameters.Add(new() { Value = MartenIds(clickIds) });
        cmd.Parameters.Add(new() { Value = MartenSetup.EventTypes[Domain.Events.AdEventType.Click].Alias });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) map[reader.GetString(0)] = reader.GetString(1);
        return map;
    }

    // Sorted, as ProbeKeys sorts text keys: an index probe in key order touches each page once.
    private static Guid[] MartenIds(IEnumerable<string> eventIds)
    {
        var ids = eventIds.Select(EventIds.MartenId).ToArray();
        Array.Sort(ids);
        return ids;
    }
}
