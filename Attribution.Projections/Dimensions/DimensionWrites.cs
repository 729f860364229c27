using Npgsql;

namespace Attribution.Projections.Dimensions;

/// <summary>What every SCD2 dimension's merge does in its transaction: hold its table's write lock, and draw the
/// surrogate keys of the versions it opens.</summary>
internal static class DimensionWrites
{
    public static async Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long writeLock, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", conn, tx);
        cmd.Parameters.Add(new() { Value = writeLock });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Keys unused by the merge are skipped for good: surrogate keys need to be unique, not dense.</summary>
    public static async Task<Queue<long>> AllocateKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sequence, int count, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT nextval($1::regclass) FROM generate_series(1, $2)", conn, tx);
        cmd.Parameters.Add(new() { Value = sequence });
        cmd.Parameters.Add(new() { Value = count });
        var keys = new Queue<long>(count);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) keys.Enqueue(reader.GetInt64(0));
        return keys;
    }
}
