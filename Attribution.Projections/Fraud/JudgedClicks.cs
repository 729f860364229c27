using Attribution.Domain.Fraud;
using Npgsql;

namespace Attribution.Projections.Fraud;

/// <summary>The burst flags of clicks across impressions, decided from the judged_clicks table (its owner).</summary>
public static class JudgedClicks
{
    /// <summary>The advisory-lock class of a burst key: batches judging clicks of one address or user run one after
    /// the other, so neither misses the other's clicks in the key's minute.</summary>
    private const int KeyLockClass = 0x4A43;

    /// <summary>A batch's burst decision: the flags of every judged click its impressions hold, and the impressions
    /// outside the batch whose stored clicks its new clicks re-flagged (they are folded again).</summary>
    public sealed record BatchDecision(Dictionary<string, FraudRule[]> Flags, HashSet<string> Reflagged);

    /// <summary>Records the batch's new judged clicks and decides the burst flags of <paramref name="folded"/> (the
    /// judged clicks of every impression the batch folds, the new ones included).</summary>
    public static async Task<BatchDecision> DecideForBatchAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        IReadOnlyCollection<JudgedClick> folded, IReadOnlyCollection<JudgedClick> added, FraudSettings settings, CancellationToken ct)
    {
        if (folded.Count == 0) return new([], []);
        await LockKeysAsync(conn, tx, folded, ct);
        await RecordAsync(conn, tx, added, ct);
        var loaded = await LoadAsync(conn, tx, BurstFlags.Windows(folded, added), ct);
        var addedIds = added.Select(a => a.EventId).ToHashSet(StringComparer.Ordinal);
        var foldedImpressions = folded.Select(c => c.ImpressionId).ToHashSet(StringComparer.Ordinal);
        var reflagged = BurstFlags.Reflagged(loaded, addedIds, settings)
            .Select(c => c.ImpressionId).Where(i => !foldedImpressions.Contains(i)).ToHashSet(StringComparer.Ordinal);
        return new(BurstFlags.Of(loaded, settings), reflagged);
    }

    /// <summary>The burst flags of these stored clicks under <paramref name="settings"/>, read from the clicks of their
    /// keys' minutes (rebuilds, what-if replays, explanations, backtests).</summary>
    public static async Task<Dictionary<string, FraudRule[]>> FlagsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx,
        IReadOnlyCollection<JudgedClick> clicks, FraudSettings settings, CancellationToken ct)
    {
        if (clicks.Count == 0) return [];
        var loaded = await LoadAsync(conn, tx, BurstFlags.Windows(clicks, []), ct);
        var wanted = clicks.Select(c => c.EventId).ToHashSet(StringComparer.Ordinal);
        return BurstFlags.Of(loaded, settings).Where(f => wanted.Contains(f.Key)).ToDictionary(StringComparer.Ordinal);
    }

    public static async Task LockKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IEnumerable<JudgedClick> clicks, CancellationToken ct)
    {
        var keys = clicks.SelectMany(c => new[] { c.IpAddress is null ? null : "ip:" + c.IpAddress, c.UserId is null ? null : "user:" + c.UserId })
            .OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
        if (keys.Length == 0) return;
        // Locks taken in one order by every batch (volatile target-list functions run after the sort), so two batches
        // with overlapping keys queue instead of deadlocking on each other.
        await using var cmd = new NpgsqlCommand("""
            SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) k) s ORDER BY h
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = KeyLockClass });
        cmd.Parameters.Add(new() { Value = keys });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task RecordAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<JudgedClick> clicks, CancellationToken ct)
    {
        if (clicks.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO judged_clicks (event_id, impression_id, ip_address, user_id, event_time)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
            ON CONFLICT (event_id) DO NOTHING
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = clicks.Select(c => c.EventId).ToArray() });
        cmd.Parameters.Add(new() { Value = clicks.Select(c => c.ImpressionId).ToArray() });
        cmd.Parameters.Add(new() { Value = clicks.Select(c => c.IpAddress).ToArray() });
        cmd.Parameters.Add(new() { Value = clicks.Select(c => c.UserId).ToArray() });
        cmd.Parameters.Add(new() { Value = clicks.Select(c => c.EventTime).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Retention: the clicks of retired impressions leave the burst counts with their events.</summary>
    public static async Task ForgetAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string[] impressionIds, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("DELETE FROM judged_clicks WHERE impression_id = ANY($1)", conn, tx);
        cmd.Parameters.Add(new() { Value = impressionIds });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<JudgedClick>> LoadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, List<BurstWindow> windows, CancellationToken ct)
    {
        var clicks = new List<JudgedClick>();
        if (windows.Count == 0) return clicks;
        await using var cmd = new NpgsqlCommand("""
            SELECT c.event_id, c.impression_id, c.ip_address, c.user_id, c.event_time
            FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) w(k, lo, hi)
            JOIN judged_clicks c ON c.ip_address = w.k AND c.event_time BETWEEN w.lo AND w.hi
            UNION
            SELECT c.event_id, c.impression_id, c.ip_address, c.user_id, c.event_time
            FROM unnest($4::text[], $5::timestamptz[], $6::timestamptz[]) w(k, lo, hi)
            JOIN judged_clicks c ON c.user_id = w.k AND c.event_time BETWEEN w.lo AND w.hi
            """, conn, tx);
        foreach (var kind in new[] { BurstKey.IpAddress, BurstKey.UserId })
        {
            var of = windows.Where(w => w.Kind == kind).ToList();
            cmd.Parameters.Add(new() { Value = of.Select(w => w.Key).ToArray() });
            cmd.Parameters.Add(new() { Value = of.Select(w => w.From).ToArray() });
            cmd.Parameters.Add(new() { Value = of.Select(w => w.To).ToArray() });
        }

        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            clicks.Add(new JudgedClick(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3), DateTime.SpecifyKind(reader.GetDateTime(4), DateTimeKind.Utc)));
        }

        return clicks;
    }
}
