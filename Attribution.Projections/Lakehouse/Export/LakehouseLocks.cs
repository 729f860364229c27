using Npgsql;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>
/// One writer per lakehouse table across every instance: export, compaction and expiry of a table take this
/// PostgreSQL session lock, so they never race on a commit (a lost race would only cost a retry, but compaction
/// racing an export would rewrite files the export is about to replace).
/// </summary>
public static class LakehouseLocks
{
    // Two-key advisory locks live apart from the single-bigint keys the pipeline uses.
    private const int LockClass = 0x4C4B_4853;

    public static async Task<IAsyncDisposable> AcquireAsync(NpgsqlDataSource dataSource, string table, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var conn = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_lock($1, hashtext($2))", conn);
            cmd.Parameters.Add(new() { Value = LockClass });
            cmd.Parameters.Add(new() { Value = table });
            await cmd.ExecuteNonQueryAsync(ct);
            return new Held(conn, table);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private sealed class Held(NpgsqlConnection conn, string table) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock($1, hashtext($2))", conn);
                cmd.Parameters.Add(new() { Value = LockClass });
                cmd.Parameters.Add(new() { Value = table });
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                // A broken connection has ended its session, and with it the lock.
            }
            finally
            {
                await conn.DisposeAsync();
            }
        }
    }
}
