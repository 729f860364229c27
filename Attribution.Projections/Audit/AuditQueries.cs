using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Audit;

public sealed record AuditRecord(long Id, string? EventId, string? ImpressionId, string? EventType, string Reason, string? Detail, DateTime RecordedAt);

public sealed class AuditQueries(NpgsqlDataSource dataSource)
{
    public async Task<List<AuditRecord>> FindAsync(string? eventId, string? impressionId, string? reason, int limit, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT id, event_id, impression_id, event_type, reason, detail, recorded_at FROM audit_log
            WHERE ($1::text IS NULL OR event_id = $1)
              AND ($2::text IS NULL OR impression_id = $2)
              AND ($3::text IS NULL OR reason = $3)
            ORDER BY id DESC
            LIMIT $4
            """);
        cmd.Parameters.Add(new() { Value = (object?)eventId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)impressionId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit });
        var rows = new List<AuditRecord>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(new AuditRecord(reader.GetInt64(0), S(1), S(2), S(3), reader.GetString(4), S(5),
                DateTime.SpecifyKind(reader.GetDateTime(6), DateTimeKind.Utc)));
        }

        return rows;
    }
}
