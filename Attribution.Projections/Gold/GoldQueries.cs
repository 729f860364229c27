using System.Data.Common;
using Attribution.Domain.Attribution;
using Attribution.Projections.Schema;
using Npgsql;

namespace Attribution.Projections.Gold;

public sealed record GoldRecord(GoldState State, int StreamVersion, DateTime LastUpdated);

/// <summary>Reads of the Gold table for the query API.</summary>
public sealed class GoldQueries(NpgsqlDataSource dataSource)
{
    public const string Columns =
        "impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked, is_converted, " +
        "impression_time, click_time, conversion_time, cost, revenue, eligible, is_late, late_by_ms, " +
        "revenue_out_of_window, stream_version, last_updated_ts";

    public async Task<GoldRecord?> GetAsync(string impressionId, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"SELECT {Columns} FROM ad_performance_state WHERE impression_id = $1");
        cmd.Parameters.Add(new() { Value = impressionId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>The Gold rows of these impressions as they are in this transaction, locked until it ends, so that
    /// what replaces them can be applied to the rollup as a delta.</summary>
    public static async Task<List<GoldState>> LockRowsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> impressionIds, CancellationToken ct)
    {
        var rows = new List<GoldState>(impressionIds.Count);
        if (impressionIds.Count == 0) return rows;
        await using var cmd = new NpgsqlCommand(
            $"SELECT {Columns} FROM ad_performance_state WHERE impression_id = ANY($1) ORDER BY impression_id FOR UPDATE", conn, tx);
        cmd.Parameters.Add(new() { Value = ProbeKeys.Sorted(impressionIds) });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(Read(reader).State);
        return rows;
    }

    public static GoldRecord Read(DbDataReader r)
    {
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTime? T(int i) => r.IsDBNull(i) ? null : DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);
        var state = new GoldState(r.GetString(0), S(1), S(2), S(3), S(4), S(5), r.GetBoolean(6), r.GetBoolean(7),
            T(8), T(9), T(10), r.GetDecimal(11), r.GetDecimal(12), r.GetBoolean(13), r.GetBoolean(14), r.GetInt64(15),
            r.GetDecimal(16));
        return new GoldRecord(state, r.GetInt32(17), T(18)!.Value);
    }
}
