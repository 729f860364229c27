using Npgsql;

namespace Attribution.Projections.Replays;

/// <summary>Which impressions a what-if replays, as [from, to) of impression time (either end open).</summary>
public sealed record ImpressionRange(DateTime? From, DateTime? To)
{
    public bool IsBounded => From is not null || To is not null;
}

/// <summary>
/// Which streams of Marten's event store a what-if replays, page by page in stream id order: every live stream
/// (<c>mt_streams</c>), or those whose impression time is in a range (the <c>events</c> view over <c>mt_events</c>,
/// through its event-time index). The events themselves are loaded through
/// <see cref="EventStore.EventStoreReader.LoadStreamsAsync"/>.
/// </summary>
public static class ReplaySource
{
    // An impression's time is its earliest IMPRESSION event's (rule 3): in [from, to) when one IMPRESSION is in the
    // range and none is before it. The range finds candidates through events_event_time; the NOT EXISTS probes the
    // stream by (stream_id, stream_version).
    private const string InRange = """
        SELECT e.stream_id FROM events e
        WHERE e.event_type = 'IMPRESSION' AND e.stream_id > $1
          AND e.event_time >= coalesce($2, '-infinity') AND e.event_time < coalesce($3, 'infinity')
          AND NOT EXISTS (SELECT 1 FROM events p WHERE p.stream_id = e.stream_id AND p.event_type = 'IMPRESSION'
                                                   AND p.event_time < coalesce($2, '-infinity'))
        GROUP BY e.stream_id
        """;

    // Without a range every live stream is replayed, as the live replay does.
    private const string All = "SELECT id FROM mt_streams WHERE NOT is_archived AND id > $1";

    public static async Task<long> CountAsync(NpgsqlConnection conn, ImpressionRange range, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(range);
        await using var cmd = new NpgsqlCommand($"SELECT count(*) FROM ({(range.IsBounded ? InRange : All)}) s", conn);
        Bind(cmd, range, "");
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The next stream ids after <paramref name="after"/> (ordinal order), at most <paramref name="limit"/>.</summary>
    public static async Task<List<string>> NextPageAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, ImpressionRange range, string after, int limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(range);
        await using var cmd = new NpgsqlCommand($"{(range.IsBounded ? InRange : All)} ORDER BY 1 LIMIT {(range.IsBounded ? "$4" : "$2")}", conn, tx);
        Bind(cmd, range, after);
        cmd.Parameters.Add(new() { Value = limit });
        var ids = new List<string>(limit);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    private static void Bind(NpgsqlCommand cmd, ImpressionRange range, string after)
    {
        cmd.Parameters.Add(new() { Value = after });
        if (!range.IsBounded) return;
        cmd.Parameters.Add(new() { Value = (object?)range.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)range.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    }
}
