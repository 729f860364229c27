using Npgsql;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>How far one table is exported (a row of lakehouse_export_state).</summary>
public sealed record ExportState(string Table, long HighWaterMark, long? SnapshotId, long RowsExported, DateTime UpdatedAt);

/// <summary>Reads and advances lakehouse_export_state; a mark never moves backwards.</summary>
public sealed class ExportStateStore(NpgsqlDataSource dataSource)
{
    public async Task<ExportState?> ReadAsync(string table, CancellationToken ct)
    {
        return (await ReadAllAsync(ct)).FirstOrDefault(s => s.Table == table);
    }

    public async Task<IReadOnlyList<ExportState>> ReadAllAsync(CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            "SELECT table_name, high_water_mark, snapshot_id, rows_exported, updated_at FROM lakehouse_export_state ORDER BY table_name");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var states = new List<ExportState>();
        while (await reader.ReadAsync(ct))
        {
            states.Add(new ExportState(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.GetInt64(3), DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)));
        }

        return states;
    }

    /// <summary>Forgets a table's progress, for a table that starts over empty.</summary>
    public async Task ResetAsync(string table, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("DELETE FROM lakehouse_export_state WHERE table_name = $1");
        cmd.Parameters.Add(new() { Value = table });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records that everything up to <paramref name="mark"/> is in the table; called only after the commit.</summary>
    public async Task AdvanceAsync(string table, long mark, long? snapshotId, long rows, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO lakehouse_export_state AS s (table_name, high_water_mark, snapshot_id, rows_exported)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (table_name) DO UPDATE SET
                high_water_mark = GREATEST(s.high_water_mark, EXCLUDED.high_water_mark),
                snapshot_id = coalesce(EXCLUDED.snapshot_id, s.snapshot_id),
                rows_exported = s.rows_exported + EXCLUDED.rows_exported,
                updated_at = now()
            """);
        cmd.Parameters.Add(new() { Value = table });
        cmd.Parameters.Add(new() { Value = mark });
        cmd.Parameters.Add(new() { Value = (object?)snapshotId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = rows });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
