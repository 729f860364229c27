using System.Text.Json;
using Attribution.Domain.Attribution;
using Attribution.Projections.Gold;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Replays;

/// <summary>
/// A what-if's own schema, <c>whatif_&lt;replay id&gt;</c>: its Gold (<see cref="WhatIfTable"/>), the live Gold rows of the
/// same impressions as the replay read them (<see cref="LiveTable"/>), and the explained changed impressions. Schema
/// names are made here from ids our code generated, and checked again before they reach SQL.
/// </summary>
public static class ShadowGold
{
    public const string WhatIfTable = "ad_performance_state";
    public const string LiveTable = "live_ad_performance_state";
    public const string ChangedTable = "changed_impressions";

    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static string SchemaOf(string replayId) =>
        ReplayIds.IsValid(replayId) ? "whatif_" + replayId : throw new ArgumentException($"'{replayId}' is not a replay id", nameof(replayId));

    public static async Task CreateAsync(NpgsqlConnection conn, string replayId, CancellationToken ct)
    {
        var s = SchemaOf(replayId);
        // Made from live Gold's table, not from a copy of its DDL, so the shadow has Gold's columns whatever they
        // become; CREATE TABLE AS takes no constraints or defaults, so the live change sequence is never drawn from.
        await using var cmd = new NpgsqlCommand($"""
            CREATE SCHEMA {s};
            CREATE TABLE {s}.{WhatIfTable} AS SELECT * FROM ad_performance_state WITH NO DATA;
            ALTER TABLE {s}.{WhatIfTable} ADD PRIMARY KEY (impression_id), ALTER COLUMN last_updated_ts SET DEFAULT now();
            CREATE TABLE {s}.{LiveTable} (LIKE {s}.{WhatIfTable} INCLUDING DEFAULTS INCLUDING INDEXES);
            CREATE TABLE {s}.{ChangedTable} (impression_id text PRIMARY KEY, detail jsonb NOT NULL);
            """, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task DropAsync(NpgsqlDataSource db, string replayId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"DROP SCHEMA IF EXISTS {SchemaOf(replayId)} CASCADE");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Live Gold's rows of these impressions, read (never locked) in the caller's snapshot.</summary>
    public static async Task<Dictionary<string, GoldRecord>> ReadLiveAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> impressionIds, CancellationToken ct)
    {
        var rows = new Dictionary<string, GoldRecord>(impressionIds.Count, StringComparer.Ordinal);
        await using var cmd = new NpgsqlCommand($"SELECT {GoldColumns.Selected} FROM ad_performance_state WHERE impression_id = ANY($1)", conn, tx);
        cmd.Parameters.Add(new() { Value = impressionIds.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var row = GoldColumns.Read(reader);
            rows[row.State.ImpressionId] = row;
        }

        return rows;
    }

    /// <summary>One chunk of the replay: its what-if Gold, the live rows it was compared with, its explained changes.</summary>
    public static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string replayId, IReadOnlyList<GoldRow> whatIf,
        IReadOnlyList<GoldRow> live, IReadOnlyList<ChangedImpression> changed, CancellationToken ct)
    {
        var s = SchemaOf(replayId);
        await GoldWriter.CopyIntoAsync(conn, $"{s}.{WhatIfTable}", whatIf, ct);
        await GoldWriter.CopyIntoAsync(conn, $"{s}.{LiveTable}", live, ct);
        if (changed.Count == 0) return;
        await using var cmd = new NpgsqlCommand($"INSERT INTO {s}.{ChangedTable} (impression_id, detail) SELECT * FROM unnest($1::text[], $2::jsonb[])", conn, tx);
        cmd.Parameters.Add(new() { Value = changed.Select(c => c.ImpressionId).ToArray() });
        cmd.Parameters.Add(new() { Value = changed.Select(c => JsonSerializer.Serialize(c, Json)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>Replay ids: 12 lowercase hex digits, random, so a schema name made from one needs no quoting.</summary>
public static class ReplayIds
{
    public static string New() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    public static bool IsValid(string? id) => id is { Length: 12 } && id.All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));
}
