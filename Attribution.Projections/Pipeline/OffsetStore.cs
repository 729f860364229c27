using Npgsql;

namespace Attribution.Projections.Pipeline;

/// <summary>Kafka offsets kept in PostgreSQL, next to the state they produced.</summary>
public static class OffsetStore
{
    /// <summary>The next offset to read per partition, for this cluster only: another cluster's offsets mean
    /// nothing here (an embedded broker comes back empty after a restart).</summary>
    public static async Task<Dictionary<int, long>> ReadAsync(
        NpgsqlConnection conn, string group, string topic, string clusterId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT kafka_partition, next_offset FROM kafka_offsets
            WHERE consumer_group = $1 AND topic = $2 AND cluster_id = $3
            """, conn);
        cmd.Parameters.Add(new() { Value = group });
        cmd.Parameters.Add(new() { Value = topic });
        cmd.Parameters.Add(new() { Value = clusterId });
        var offsets = new Dictionary<int, long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) offsets[reader.GetInt32(0)] = reader.GetInt64(1);
        return offsets;
    }

    /// <summary>Stores the next offsets of the partitions a batch consumed. An offset never moves backwards within a
    /// cluster, so a consumer that lost its partition in a rebalance cannot rewind the new owner.</summary>
    public static async Task StoreAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, string group, string topic, string clusterId,
        IReadOnlyDictionary<int, (long NextOffset, int Events)> partitions, CancellationToken ct)
    {
        if (partitions.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO kafka_offsets AS o (consumer_group, topic, kafka_partition, cluster_id, next_offset, events_applied, last_applied_at)
            SELECT $1, $2, p, $3, n, e, now() FROM unnest($4::integer[], $5::bigint[], $6::bigint[]) AS u(p, n, e)
            ON CONFLICT (consumer_group, topic, kafka_partition) DO UPDATE SET
                next_offset = CASE WHEN o.cluster_id = EXCLUDED.cluster_id
                                   THEN greatest(o.next_offset, EXCLUDED.next_offset) ELSE EXCLUDED.next_offset END,
                cluster_id = EXCLUDED.cluster_id,
                events_applied = o.events_applied + EXCLUDED.events_applied,
                last_applied_at = now()
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = group });
        cmd.Parameters.Add(new() { Value = topic });
        cmd.Parameters.Add(new() { Value = clusterId });
        cmd.Parameters.Add(new() { Value = partitions.Keys.ToArray() });
        cmd.Parameters.Add(new() { Value = partitions.Values.Select(v => v.NextOffset).ToArray() });
        cmd.Parameters.Add(new() { Value = partitions.Values.Select(v => (long)v.Events).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records messages the broker no longer has, and moves the partition past them, in one transaction.</summary>
    public static async Task RecordLossAsync(
        NpgsqlConnection conn, string group, string topic, string clusterId, int partition, long fromOffset, long toOffset,
        CancellationToken ct)
    {
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("""
            INSERT INTO kafka_lost_messages (consumer_group, topic, kafka_partition, cluster_id, from_offset, to_offset)
            VALUES ($1, $2, $3, $4, $5, $6)
            """, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = group });
            cmd.Parameters.Add(new() { Value = topic });
            cmd.Parameters.Add(new() { Value = partition });
            cmd.Parameters.Add(new() { Value = clusterId });
            cmd.Parameters.Add(new() { Value = fromOffset });
            cmd.Parameters.Add(new() { Value = toOffset });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await StoreAsync(conn, tx, group, topic, clusterId,
            new Dictionary<int, (long, int)> { [partition] = (toOffset, 0) }, ct);
        await tx.CommitAsync(ct);
    }
}
