using System.Diagnostics;
using Attribution.Domain.Users;
using Attribution.Projections.Lakehouse.Export;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Users;

/// <summary>What one refresh of the audience cube did.</summary>
/// <param name="Days">Days rebuilt (0 when nothing had changed, or another instance was refreshing).</param>
public sealed record AudienceRefresh(int Days, long Cells, TimeSpan Took);

/// <summary>
/// The audience cube (AudienceCube.sql): per day and campaign, and per hour over all campaigns, the sums and a user
/// sketch of every grouping it covers (<see cref="AudiencePlan.Covers"/>), and every impression of its days with its
/// groups as codes for the groupings it does not (AudienceFacts.sql). A refresh rebuilds, each in
/// a transaction of its own, the days whose Gold rows or profiles changed since the last one, then moves the
/// watermark; until then <see cref="AudienceQueries"/> reads those days from Gold, so an answer never lags.
/// </summary>
public sealed class AudienceCube(NpgsqlDataSource dataSource, ILogger<AudienceCube> logger)
{
    /// <summary>One instance refreshes at a time; the others skip their turn.</summary>
    private const long RefreshLock = 0x4174_7472_0024;

    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Rebuilds the dirty days. Returns at once when another instance is refreshing.</summary>
    public async Task<AudienceRefresh> RefreshAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await using var lockConn = await dataSource.OpenConnectionAsync(ct);
        if (!await TryLockAsync(lockConn, ct)) return new AudienceRefresh(0, 0, clock.Elapsed);
        try
        {
            var (goldSeq, usersSeq) = await WatermarkAsync(lockConn, ct);
            if (!await AnythingNewAsync(lockConn, goldSeq, usersSeq, ct)) return new AudienceRefresh(0, 0, clock.Elapsed);
            // Everything at or below the barriers has committed, so the days rebuilt below see all of it.
            var goldTo = await ExportBarrier.ReadAsync(dataSource, "SELECT coalesce(max(change_seq), 0) FROM ad_performance_state", BarrierTimeout, ct);
            var usersTo = await ExportBarrier.ReadAsync(dataSource, "SELECT coalesce(max(merge_seq), 0) FROM dim_users", BarrierTimeout, ct,
                UserDimension.WriteLock);
            var dirty = await AudienceChanges.ReadAsync(lockConn, null, goldTo, usersTo, ct);
            var days = await dirty.DaysToRebuildAsync(lockConn, ct);
            long cells = 0;
            foreach (var day in days) cells += await RebuildDayAsync(day, ct);
            await using (var move = new NpgsqlCommand("UPDATE audience_watermark SET gold_seq = $1, users_seq = $2 WHERE id = 1", lockConn))
            {
                move.Parameters.Add(new() { Value = goldTo });
                move.Parameters.Add(new() { Value = usersTo });
                await move.ExecuteNonQueryAsync(ct);
            }

            logger.LogInformation("Audience cube: {Days} days rebuilt ({Cells} cells) in {Seconds:0.0} s", days.Count, cells, clock.Elapsed.TotalSeconds);
            return new AudienceRefresh(days.Count, cells, clock.Elapsed);
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", lockConn);
            unlock.Parameters.Add(new() { Value = RefreshLock });
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>A Gold replay empties the cube in its transaction: every day is read from Gold until rebuilt.</summary>
    public static async Task ClearForRebuildAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var clear = new NpgsqlCommand("TRUNCATE audience_cells, audience_days, audience_facts", conn, tx);
        await clear.ExecuteNonQueryAsync(ct);
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", conn);
        cmd.Parameters.Add(new() { Value = RefreshLock });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task<(long Gold, long Users)> WatermarkAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT gold_seq, users_seq FROM audience_watermark WHERE id = 1", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Two index probes, so an idle refresh never takes the barrier the pipeline's batches wait on.</summary>
    private static async Task<bool> AnythingNewAsync(NpgsqlConnection conn, long goldSeq, long usersSeq, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT EXISTS (SELECT 1 FROM ad_performance_state WHERE change_seq > $1)
                OR EXISTS (SELECT 1 FROM dim_users WHERE merge_seq > $2)
            """, conn);
        cmd.Parameters.Add(new() { Value = goldSeq });
        cmd.Parameters.Add(new() { Value = usersSeq });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>One day's cells from Gold joined to the profile valid at each impression (AudienceSql's statements), in
    /// one transaction.</summary>
    private async Task<long> RebuildDayAsync(DateOnly day, CancellationToken ct)
    {
        var from = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        async Task<int> Exec(string sql, params object[] args)
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            foreach (var arg in args) cmd.Parameters.Add(new() { Value = arg });
            return await cmd.ExecuteNonQueryAsync(ct);
        }

        await Exec("SET LOCAL work_mem = '64MB'");
        await Exec(AudienceSql.StageDay, from, from.AddDays(1));
        await Exec("DELETE FROM audience_cells WHERE bucket >= $1 AND bucket < $2", from, from.AddDays(1));
        await Exec("DELETE FROM audience_facts WHERE impression_time >= $1 AND impression_time < $2", from, from.AddDays(1));
        foreach (var codes in AudienceSql.StageCodes) await Exec(codes);
        await Exec(AudienceSql.StageFacts);
        await Exec(AudienceSql.StageFineCells, from);
        long cells = 0;
        foreach (var insert in AudienceSql.CellInserts) cells += await Exec(insert, from);
        await Exec("INSERT INTO audience_days (day) VALUES ($1) ON CONFLICT (day) DO UPDATE SET refreshed_at = now()", day);
        await tx.CommitAsync(ct);
        return cells;
    }
}
