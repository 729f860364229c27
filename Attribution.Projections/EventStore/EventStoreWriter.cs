using System.Buffers;
using System.Text.Json;
using Attribution.Domain.Events;
using Marten;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.EventStore;

/// <summary>An event a batch is about to append, with where its Kafka message was and the bytes it arrived as.</summary>
public sealed record EventToAppend(AdEvent Event, int? Partition, long? Offset, ReadOnlyMemory<byte> Raw);

/// <summary>An event ready to append: its stream position is decided, its Kafka origin is known. The payload stays the
/// UTF-8 bytes it arrived as (valid JSON: it parsed).</summary>
public sealed record NewEvent(AdEvent Event, int StreamVersion, int? KafkaPartition, long? KafkaOffset, ReadOnlyMemory<byte> RawPayload);

/// <summary>
/// Appends to Marten's event store inside the caller's transaction, as Marten's own bulk loader does: sequence
/// numbers from mt_events_sequence, the streams' versions in mt_streams, the events by binary COPY into mt_events.
/// Marten's session append (quick mode) runs a function per stream, and most of a batch's streams are new
/// impressions with one event: measured at a fifth of the COPY's rate (docs/BENCHMARKS.md, *Event store on Marten*).
/// Marten's bulk loader itself commits on a connection of its own and only starts new streams, so Gold, the audit
/// and the offsets could not share its transaction; this is the same write, in ours.
/// </summary>
public sealed class EventStoreWriter(IDocumentStore store)
{
    private readonly ISerializer _serializer = store.Options.Serializer();

    /// <summary>Appends the events; <paramref name="sequences"/> are given only by the migration that moves events
    /// written before Marten held the store, which keep their numbers.</summary>
    public async Task AppendAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> events, CancellationToken ct,
        IReadOnlyList<long>? sequences = null)
    {
        if (events.Count == 0) return;
        sequences ??= await NextSequencesAsync(conn, tx, events.Count, ct);
        await UpsertStreamsAsync(conn, tx, events, ct);
        var appendedAt = DateTimeOffset.UtcNow;
        await using var importer = await conn.BeginBinaryImportAsync(
            "COPY mt_events (seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived, headers) FROM STDIN (FORMAT BINARY)", ct);
        // The per-value writes only fill Npgsql's buffer: done synchronously they cost about a third less than awaited
        // calls per value, on the pipeline's hottest loop.
        for (var i = 0; i < events.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            var n = events[i];
            var type = MartenSetup.EventTypes[n.Event.Type];
            importer.StartRow();
            importer.Write(sequences[i], NpgsqlDbType.Bigint);
            importer.Write(EventIds.MartenId(n.Event.EventId), NpgsqlDbType.Uuid);
            importer.Write(n.Event.ImpressionId!, NpgsqlDbType.Varchar);
            importer.Write((long)n.StreamVersion, NpgsqlDbType.Bigint);
            importer.Write(_serializer.ToJson(n.Event), NpgsqlDbType.Jsonb);
            importer.Write(type.Alias, NpgsqlDbType.Varchar);
            importer.Write(appendedAt, NpgsqlDbType.TimestampTz);
            importer.Write(MartenSetup.DefaultTenant, NpgsqlDbType.Varchar);
            importer.Write(type.DotNetTypeName, NpgsqlDbType.Varchar);
            importer.Write(false, NpgsqlDbType.Boolean);
            importer.Write(EventHeaders.Json(n.KafkaPartition, n.KafkaOffset, n.RawPayload.Span), NpgsqlDbType.Jsonb);
        }

        await importer.CompleteAsync(ct);
    }

    private static async Task<long[]> NextSequencesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, int count, CancellationToken ct)
    {
        var sequences = new long[count];
        await using var cmd = new NpgsqlCommand("SELECT nextval('mt_events_sequence') FROM generate_series(1, $1)", conn, tx);
        cmd.Parameters.Add(new() { Value = count });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        for (var i = 0; await reader.ReadAsync(ct); i++) sequences[i] = reader.GetInt64(0);
        return sequences;
    }

    /// <summary>Each stream's row with its new version: a new impression's stream starts here, an existing one moves on.</summary>
    private static async Task UpsertStreamsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<NewEvent> events, CancellationToken ct)
    {
        var versions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var n in events) versions[n.Event.ImpressionId!] = Math.Max(versions.GetValueOrDefault(n.Event.ImpressionId!), n.StreamVersion);
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO mt_streams (id, version, is_archived)
            SELECT * FROM unnest($1::varchar[], $2::bigint[], $3::boolean[])
            ON CONFLICT (id) DO UPDATE SET version = excluded.version, timestamp = now()
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = versions.Keys.ToArray() });
        cmd.Parameters.Add(new() { Value = versions.Values.ToArray() });
        cmd.Parameters.Add(new() { Value = new bool[versions.Count] });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>What an event carries besides its data, in Marten's headers: where it came from in Kafka and the JSON it
/// arrived as (fields our records do not model are kept there). The payload is kept as a JSON string, byte for byte:
/// as a JSON value jsonb would reorder its keys and drop its spacing.</summary>
public static class EventHeaders
{
    public const string KafkaPartition = "kafka_partition";
    public const string KafkaOffset = "kafka_offset";
    public const string RawPayload = "raw_payload";

    public static byte[] Json(int? kafkaPartition, long? kafkaOffset, ReadOnlySpan<byte> rawPayload)
    {
        var buffer = new ArrayBufferWriter<byte>(rawPayload.Length + 64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (kafkaPartition is { } p) json.WriteNumber(KafkaPartition, p);
            if (kafkaOffset is { } o) json.WriteNumber(KafkaOffset, o);
            json.WriteString(RawPayload, rawPayload);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
