using System.Buffers.Text;
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
            Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32)),
            clock.GetUtcNow(), null);
        await ChangeAsync("INSERT INTO ingest_keys (key_id, secret, created_at) VALUES ($1, $2, $3)", ct, key.KeyId, key.Secret, key.CreatedAt);
        ring.Add(key);
        return key;
    }

    /// <summary>Revokes a key: false when there was none with that id.</summary>
    public async Task<bool> DeleteAsync(string keyId, CancellationToken ct)
    {
        var deleted = await ChangeAsync("DELETE FROM ingest_keys WHERE key_id = $1", ct, keyId);
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

    /// <summary>One change and its notification in one transaction: NOTIFY is delivered at commit, and only then, so a
    /// listener never reloads before the change is visible. Returns the rows changed.</summary>
    private async Task<int> ChangeAsync(string sql, CancellationToken ct, params object[] values)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        int changed;
        await using (var cmd = new NpgsqlCommand(sql, conn, tx))
        {
            foreach (var v in values) cmd.Parameters.Add(new() { Value = v });
            changed = await cmd.ExecuteNonQueryAsync(ct);
        }

        await using (var notify = new NpgsqlCommand($"NOTIFY {Channel}", conn, tx))
            await notify.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return changed;
    }
}
