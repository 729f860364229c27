using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Ingest;

/// <summary>Ingest keys made through the admin API, in PostgreSQL (IngestKeys.sql). Every change notifies the channel
/// <see cref="Channel"/>, on which every instance's <see cref="IngestKeyRefresher"/> listens: a revocation holds on all
/// of them at once, not at their next refresh.</summary>
public sealed class IngestKeyStore(NpgsqlDataSource db, IngestKeyRing ring, TimeProvider clock)
{
    public const string Channel = "attribution_ingest_keys";

    /// <summary>A new key: its id, and its secret, which is never shown again.</summary>
    public async Task<StoredIngestKey> CreateAsync(CancellationToken ct)
    {
        var key = new StoredIngestKey("ik_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)),
            Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
            clock.GetUtcNow(), null);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var cmd = new NpgsqlCommand("INSERT INTO ingest_keys (key_id, secret, created_at) VALUES ($1, $2, $3)", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = key.KeyId });
            cmd.Parameters.Add(new() { Value = key.Secret });
            cmd.Parameters.Add(new() { Value = key.CreatedAt });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await NotifyAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
        ring.Add(key);
        return key;
    }

    /// <summary>Revokes a key: false when there was none with that id.</summary>
    public async Task<bool> DeleteAsync(string keyId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        int deleted;
        await using (var cmd = new NpgsqlCommand("DELETE FROM ingest_keys WHERE key_id = $1", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = keyId });
            deleted = await cmd.ExecuteNonQueryAsync(ct);
        }

        await NotifyAsync(conn, tx, ct);
        await tx.CommitAsync(ct);
        ring.Remove(keyId);
        return deleted > 0;
    }

    public async Task<List<StoredIngestKey>> LoadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var keys = new List<StoredIngestKey>();
        await using var cmd = new NpgsqlCommand("SELECT key_id, secret, created_at, last_used_at FROM ingest_keys", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            keys.Add(new StoredIngestKey(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return keys;
    }

    /// <summary>Writes when keys were last used, in one statement.</summary>
    public async Task RecordUsesAsync(NpgsqlConnection conn, IReadOnlyDictionary<string, DateTimeOffset> uses, CancellationToken ct)
    {
        if (uses.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            UPDATE ingest_keys k SET last_used_at = GREATEST(k.last_used_at, u.at)
            FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
            WHERE k.key_id = u.id
            """, conn);
        cmd.Parameters.Add(new() { Value = uses.Keys.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = uses.Values.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task NotifyAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        // NOTIFY is delivered at commit, and only then: a listener never reloads before the change is visible.
        await using var cmd = new NpgsqlCommand($"NOTIFY {Channel}", conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
