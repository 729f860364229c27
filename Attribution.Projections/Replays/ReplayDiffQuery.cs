using System.Text.Json;
using Attribution.Domain.Attribution;
using Npgsql;

namespace Attribution.Projections.Replays;

/// <summary>A completed replay's comparison: per campaign live against what-if, and the explained changed impressions
/// (the first <see cref="WhatIf.ExplainedImpressions"/> by impression id) with how many changed in all.</summary>
public sealed record ReplayDiff(IReadOnlyList<CampaignComparison> Campaigns, IReadOnlyList<ChangedImpression> ChangedImpressions, long ChangedImpressionsTotal);

/// <summary>Reads a replay's diff from its shadow schema alone: both sides were written there by the replay.</summary>
public sealed class ReplayDiffQuery(NpgsqlDataSource db)
{
    // The metrics endpoints' sums over Gold: impressions with a known impression time, conversions = converted rows.
    private static string Sums(string table) => $"""
        SELECT campaign_id, sum(is_converted::int)::bigint, coalesce(sum(revenue), 0), coalesce(sum(revenue_out_of_window), 0),
               coalesce(sum(cost), 0)
        FROM {table} WHERE impression_time IS NOT NULL GROUP BY campaign_id
        """;

    /// <summary>The diff, or null when the replay's schema is gone (dropped meanwhile).</summary>
    public async Task<ReplayDiff?> ReadAsync(ReplayRecord replay, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(replay);
        var s = replay.Schema;
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            var live = await TotalsAsync(conn, tx, $"{s}.{ShadowGold.LiveTable}", ct);
            var whatIf = await TotalsAsync(conn, tx, $"{s}.{ShadowGold.WhatIfTable}", ct);
            var changed = new List<ChangedImpression>();
            await using (var cmd = new NpgsqlCommand($"SELECT detail FROM {s}.{ShadowGold.ChangedTable} ORDER BY impression_id LIMIT $1", conn, tx))
            {
                cmd.Parameters.Add(new() { Value = WhatIf.ExplainedImpressions });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    changed.Add(JsonSerializer.Deserialize<ChangedImpression>(reader.GetString(0), ShadowGold.Json)!);
            }

            return new ReplayDiff(WhatIf.Compare(live, whatIf), changed, replay.Changed);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InvalidSchemaName or PostgresErrorCodes.UndefinedTable)
        {
            return null;
        }
    }

    private static async Task<List<(string? CampaignId, CampaignTotals Totals)>> TotalsAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, string table, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(Sums(table), conn, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<(string?, CampaignTotals)>();
        while (await reader.ReadAsync(ct))
            rows.Add((reader.IsDBNull(0) ? null : reader.GetString(0),
                new CampaignTotals(reader.GetInt64(1), reader.GetDecimal(2), reader.GetDecimal(3), reader.GetDecimal(4))));
        return rows;
    }
}
