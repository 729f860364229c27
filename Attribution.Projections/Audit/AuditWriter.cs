using Attribution.Domain.Attribution;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Audit;

/// <summary>One row of the audit trail.</summary>
public sealed record AuditEntry(
    string? EventId,
    string? ImpressionId,
    string? EventType,
    AuditReason Reason,
    string? Detail,
    int? KafkaPartition = null,
    long? KafkaOffset = null,
    string? RawPayload = null);

public static class AuditWriter
{
    public static async Task AppendAsync(NpgsqlConnection conn, IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        if (entries.Count == 0) return;
        await using var importer = await conn.BeginBinaryImportAsync(
            "COPY audit_log (event_id, impression_id, event_type, reason, detail, kafka_partition, kafka_offset, raw_payload) " +
            "FROM STDIN (FORMAT BINARY)", ct);
        foreach (var a in entries)
        {
            await importer.StartRowAsync(ct);
            await Text(importer, a.EventId, ct);
            await Text(importer, a.ImpressionId, ct);
            await Text(importer, a.EventType, ct);
            await importer.WriteAsync(a.Reason.ToWire(), NpgsqlDbType.Text, ct);
            await Text(importer, a.Detail, ct);
            if (a.KafkaPartition is { } p) await importer.WriteAsync(p, NpgsqlDbType.Integer, ct);
            else await importer.WriteNullAsync(ct);
            if (a.KafkaOffset is { } o) await importer.WriteAsync(o, NpgsqlDbType.Bigint, ct);
            else await importer.WriteNullAsync(ct);
            await Text(importer, a.RawPayload, ct);
        }

        await importer.CompleteAsync(ct);
    }

    // Rule 9 (order independence): an impression's derived outcomes are replaced by the ones of its latest fold.
    public static async Task DeleteDerivedAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> impressionIds, CancellationToken ct)
    {
        if (impressionIds.Count == 0) return;
        await using var cmd = new NpgsqlCommand(
            "DELETE FROM audit_log WHERE impression_id = ANY($1) AND reason = ANY($2)", conn, tx);
        cmd.Parameters.Add(new() { Value = impressionIds.ToArray() });
        cmd.Parameters.Add(new() { Value = AuditReasons.DerivedWire.ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Postbacks that found their click are no longer waiting for it.</summary>
    public static async Task DeleteUnknownClickAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> eventIds, CancellationToken ct)
    {
        if (eventIds.Count == 0) return;
        await using var cmd = new NpgsqlCommand(
            "DELETE FROM audit_log WHERE event_id = ANY($1) AND reason = $2", conn, tx);
        cmd.Parameters.Add(new() { Value = eventIds.ToArray() });
        cmd.Parameters.Add(new() { Value = AuditReason.UnknownClickId.ToWire() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    // PostgreSQL text cannot hold NUL, and an audit row must never fail: whatever a broken message carried is
    // kept, with NUL shown as U+FFFD.
    private static Task Text(NpgsqlBinaryImporter importer, string? value, CancellationToken ct) =>
        value is null ? importer.WriteNullAsync(ct) : importer.WriteAsync(value.Replace('\0', '\uFFFD'), NpgsqlDbType.Text, ct);
}
