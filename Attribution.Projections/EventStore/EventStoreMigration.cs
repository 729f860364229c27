using System.Text;
using Attribution.Projections.Schema;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.EventStore;

/// <summary>
/// Migration 13: a database written by our former event store (the events table) moves into Marten's tables once,
/// in one transaction with the counts checked, keeping every event's sequence number (the Iceberg export and
/// retention remember positions by it) and stream version. Then events becomes a view over mt_events.
/// </summary>
public static class EventStoreMigration
{
    public const string ViewScript = "EventStore.EventsView.sql";

    /// <summary>The events table as this migration finds it, in <see cref="StoredEvents.Read"/>'s order: it was
    /// frozen before events carried the client's address and User-Agent.</summary>
    private const string ColumnsBeforeMarten =
        "stream_id, stream_version, event_id, event_type, event_time, ingest_time, campaign_id, creative_id, user_id, " +
        "geo_country, platform, bid_price, conversion_value, conversion_type, click_id, seq, kafka_partition, kafka_offset, raw_payload, " +
        "NULL::text AS ip_address, NULL::text AS user_agent";
    private const int Chunk = 20_000;

    public static async Task MoveIntoMartenAsync(MigrationContext m)
    {
        var (conn, tx, ct) = (m.Connection, m.Transaction, m.Cancellation);
        if (await IsTableAsync(conn, tx, ct))
        {
            await SchemaMigrator.Exec(conn, tx, "ALTER TABLE events RENAME TO events_before_marten", ct);
            var writer = new EventStoreWriter(m.Store);
            long moved = 0, after = 0, lastSeq = 0;
            while (true)
            {
                var rows = new List<(NewEvent Event, long Seq)>(Chunk);
                await using (var read = new NpgsqlCommand(
                    $"SELECT {ColumnsBeforeMarten} FROM events_before_marten WHERE seq > $1 ORDER BY seq LIMIT $2", conn, tx))
                {
                    read.Parameters.Add(new() { Value = after });
                    read.Parameters.Add(new() { Value = Chunk });
                    await using var reader = await read.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        var stored = StoredEvents.Read(reader);
                        rows.Add((new NewEvent(stored.Event, stored.StreamVersion, stored.KafkaPartition, stored.KafkaOffset,
                            Encoding.UTF8.GetBytes(stored.RawPayload)), stored.Sequence));
                    }
                }

                if (rows.Count == 0) break;
                await writer.AppendAsync(conn, tx, rows.ConvertAll(r => r.Event), ct, rows.ConvertAll(r => r.Seq));
                moved += rows.Count;
                after = lastSeq = rows[^1].Seq;
            }

            await CheckCountsAsync(conn, tx, moved, ct);
            // The sequence goes on after the moved events, as events.seq did.
            if (lastSeq > 0)
            {
                await using var setval = new NpgsqlCommand(
                    "SELECT setval('mt_events_sequence', GREATEST($1, (SELECT last_value FROM mt_events_sequence)))", conn, tx);
                setval.Parameters.Add(new() { Value = lastSeq });
                await setval.ExecuteScalarAsync(ct);
            }
            await SchemaMigrator.Exec(conn, tx, "DROP TABLE events_before_marten", ct);
            m.Logger.LogInformation("Event store: {Events} events moved into Marten's mt_events", moved);
        }

        await SchemaMigrator.Exec(conn, tx, SchemaMigrator.ReadScript(ViewScript), ct);
    }

    private static async Task<bool> IsTableAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct) =>
        await Scalar(conn, tx, "SELECT relkind::text FROM pg_class WHERE oid = to_regclass('events')", ct) is "r";

    private static async Task CheckCountsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long moved, CancellationToken ct)
    {
        var before = (long)(await Scalar(conn, tx, "SELECT count(*) FROM events_before_marten", ct))!;
        var streams = (long)(await Scalar(conn, tx, "SELECT count(DISTINCT stream_id) FROM events_before_marten", ct))!;
        var events = (long)(await Scalar(conn, tx, "SELECT count(*) FROM mt_events", ct))!;
        var martenStreams = (long)(await Scalar(conn, tx, "SELECT count(*) FROM mt_streams", ct))!;
        if (before != moved || events != moved || streams != martenStreams)
            throw new InvalidOperationException(
                $"Moving the event store into Marten did not add up (events: {before} before, {moved} moved, {events} in mt_events; streams: {streams} before, {martenStreams} in mt_streams); nothing was changed.");
    }

    private static async Task<object?> Scalar(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        return await cmd.ExecuteScalarAsync(ct);
    }
}
