using System.Globalization;
using Attribution.Projections.Pipeline;
using Npgsql;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>
/// The highest source marker an export may read up to. events.seq and ad_performance_state.change_seq come from
/// sequences, which hand values out in order but commit out of order: a batch holding seq 100 can commit after one
/// holding 101. Every writer of those tables holds <see cref="BatchApplier.RebuildLock"/> (batches shared, replay
/// exclusive) for its whole transaction, so taking it exclusively for an instant waits for the writers in flight;
/// the maximum read under it can never be undercut by a later commit. The dimension tables' writers hold their own
/// write lock instead (<see cref="TableExporter.BarrierLock"/>).
/// </summary>
internal static class ExportBarrier
{
    public static async Task<long> ReadAsync(NpgsqlDataSource dataSource, string maxSql, TimeSpan timeout, CancellationToken ct,
        long lockKey = BatchApplier.RebuildLock)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var setTimeout = new NpgsqlCommand("SELECT set_config('lock_timeout', $1, true)", conn, tx))
        {
            setTimeout.Parameters.Add(new() { Value = ((long)timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms" });
            await setTimeout.ExecuteNonQueryAsync(ct);
        }

        try
        {
            await using var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", conn, tx);
            lockCmd.Parameters.Add(new() { Value = lockKey });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw new TimeoutException(
                $"The table's writers did not pause within {timeout.TotalSeconds:0} s (a Gold replay holds the lock?); the export will run again on its next schedule.", e);
        }

        await using var max = new NpgsqlCommand(maxSql, conn, tx);
        var value = Convert.ToInt64(await max.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
        await tx.CommitAsync(ct);
        return value;
    }
}
