using System.Data.Common;
using Attribution.Domain.Attribution;
using Attribution.Projections.Schema;
using Npgsql;

namespace Attribution.Projections.Gold;

public sealed record GoldRecord(GoldState State, int StreamVersion, DateTime LastUpdated);

/// <summary>Reads of the Gold table for the query API.</summary>
public sealed class GoldQueries(NpgsqlDataSource dataSource)
{
    public async Task<GoldRecord?> GetAsync(string impressionId, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {GoldColumns.Selected} FROM ad_performance_state WHERE impression_id = $1");
        cmd.Parameters.Add(new() { Value = impressionId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? GoldColumns.Read(reader) : null;
    }

    /// <summary>The Gold rows of these impressions as they are in this transaction, locked until it ends, so that
    /// what replaces them can be applied to the rollup as a delta.</summary>
    public static async Task<List<GoldState>> LockRowsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> impressionIds, CancellationToken ct)
    {
        var rows = new List<GoldState>(impressionIds.Count);
        if (impressionIds.Count == 0) return rows;
        await using var cmd = new NpgsqlCommand(
            $"SELECT {GoldColumns.Selected} FROM ad_performance_state WHERE impression_id = ANY($1) ORDER BY impression_id FOR UPDATE", conn, tx);
        cmd.Parameters.Add(new() { Value = ProbeKeys.Sorted(impressionIds) });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(GoldColumns.Read(reader).State);
        return rows;
    }
}
