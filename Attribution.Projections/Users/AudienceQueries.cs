using System.Data;
using Attribution.Domain.Users;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Users;

/// <summary>One audience group: its keys (one per group_by dimension, in that order) and its sums. Answers are
/// ordered by their keys, ordinally.</summary>
public sealed record AudienceRow(IReadOnlyList<string> Keys, long Impressions, long UniqueReach, long Clicks, long Conversions, decimal Cost, decimal Revenue);

/// <summary>
/// Audience analysis over Gold and dim_users: each impression joined to the user version valid at its impression
/// time (design 000 §3.4's point-in-time join), grouped by bands with Audience's rules. The whole buckets of clean days
/// come from the audience cube (<see cref="AudienceCube"/>), the rest of the range from Gold, all in one snapshot;
/// unique reach is the union of their user sketches. Groupings the cube does not cover are read row by row and totalled
/// exactly (<see cref="AudienceRows"/>).
/// </summary>
public sealed class AudienceQueries(NpgsqlDataSource dataSource)
{
    public async Task<List<AudienceRow>> QueryAsync(DateTime from, DateTime to, IReadOnlyList<string> groupBy, string? campaignId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(groupBy);
        foreach (var d in groupBy)
        {
            if (!AudienceSql.Group.ContainsKey(d)) throw new ArgumentException($"'{d}' is not an audience dimension", nameof(groupBy));
        }

        from = DateTime.SpecifyKind(from, DateTimeKind.Utc);
        to = DateTime.SpecifyKind(to, DateTimeKind.Utc);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // The cube's days, the watermark that says which are clean and Gold's rows are read from one snapshot.
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var freshness = await FreshnessAsync(conn, tx, from, to, ct);
        if (!AudiencePlan.Covers(groupBy)) return await AudienceRows.QueryAsync(AudiencePlan.ForRows(from, to, freshness), groupBy, campaignId, dataSource, conn, tx, ct);
        var plan = AudiencePlan.For(from, to, campaignId is not null, covered: true, freshness);
        if (plan.CubeBuckets.Count == 0 && plan.Live.Count == 0) return [];
        if (plan.Live.Count > 0) await AudienceRanges.JoinProfilesByIndexIfFewAsync(plan.Live, campaignId, conn, tx, ct);
        await using var cmd = Command(plan, groupBy, campaignId, conn, tx);
        var rows = new List<AudienceRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var n = groupBy.Count;
        while (await reader.ReadAsync(ct))
        {
            if (reader.GetInt64(n) == 0) continue; // no group at all: the empty range's single row of zeros
            rows.Add(new AudienceRow(Enumerable.Range(0, n).Select(reader.GetString).ToList(), reader.GetInt64(n), reader.GetInt64(n + 1),
                reader.GetInt64(n + 2), reader.GetInt64(n + 3), reader.GetDecimal(n + 4), reader.GetDecimal(n + 5)));
        }

        return rows;
    }

    private static async Task<AudienceFreshness> FreshnessAsync(NpgsqlConnection conn, NpgsqlTransaction tx, DateTime from, DateTime to, CancellationToken ct)
    {
        var built = new HashSet<DateOnly>();
        await using (var cmd = new NpgsqlCommand("SELECT day FROM audience_days WHERE day >= $1 AND day <= $2", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = DateOnly.FromDateTime(from) });
            cmd.Parameters.Add(new() { Value = DateOnly.FromDateTime(to) });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) built.Add(reader.GetFieldValue<DateOnly>(0));
        }

        if (built.Count == 0) return AudienceFreshness.Nothing;
        return (await AudienceChanges.ReadAsync(conn, tx, long.MaxValue, long.MaxValue, ct)).Over(built);
    }

    /// <summary>The cube's cells of the plan's buckets and Gold's rows of its live ranges, summed per group.</summary>
    private static NpgsqlCommand Command(AudiencePlan plan, IReadOnlyList<string> groupBy, string? campaignId, NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var n = groupBy.Count;
        var keys = Enumerable.Range(1, n).Select(i => $"k{i}").ToList();
        var parts = new List<string>();
        var cmd = new NpgsqlCommand { Connection = conn, Transaction = tx };
        if (plan.CubeBuckets.Count > 0)
        {
            // The cells keep a grouping's groups in Audience.Dimensions' order; the answer wants them in group_by's.
            var canonical = groupBy.OrderBy(AudienceSql.Index).ToList();
            var select = string.Concat(groupBy.Select((d, i) => $"key{canonical.IndexOf(d) + 1} AS k{i + 1}, "));
            parts.Add($"""
                SELECT {select}impressions, reach, clicks, conversions, cost, revenue
                FROM audience_cells WHERE dims = $1 AND hourly = $2 AND campaign_id = $3 AND bucket = ANY($4)
                """);
        }

        cmd.Parameters.Add(new() { Value = AudienceSql.Bits(groupBy) });
        cmd.Parameters.Add(new() { Value = campaignId is null });
        cmd.Parameters.Add(new() { Value = campaignId ?? "" });
        cmd.Parameters.Add(new() { Value = plan.CubeBuckets.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        if (plan.Live.Count > 0)
        {
            var select = string.Concat(groupBy.Select((d, i) => $"{AudienceSql.Group[d]} AS k{i + 1}, "));
            var interests = groupBy.Contains("interest") ? $"CROSS JOIN LATERAL unnest({AudienceSql.Interests}) AS i(interest)" : "";
            var group = n == 0 ? "" : "GROUP BY " + string.Join(", ", Enumerable.Range(1, n));
            // Only a filter that is there goes into the text: "$3 IS NULL OR campaign_id = $3" keeps the planner off the
            // (campaign_id, impression_time) index.
            var ranges = AudienceRanges.Where(plan.Live, 5);
            parts.Add($"""
                SELECT {select}count(*) AS impressions, {AudienceSql.ReachSketch()} AS reach,
                       count(*) FILTER (WHERE f.is_clicked) AS clicks, count(*) FILTER (WHERE f.is_converted) AS conversions,
                       coalesce(sum(f.cost), 0) AS cost, coalesce(sum(f.revenue), 0) AS revenue
                FROM ad_performance_state f
                {AudienceSql.ProfileJoin}
                {interests}
                WHERE ({ranges}){(campaignId is null ? "" : " AND f.campaign_id = $3")}
                {group}
                """);
            AudienceRanges.Add(cmd, plan.Live);
        }

        var keyList = n == 0 ? "" : string.Join(", ", keys) + ", ";
        var outer = n == 0 ? "" : "GROUP BY " + string.Join(", ", keys) + " ORDER BY " + string.Join(", ", keys.Select(k => $"{k} COLLATE \"C\""));
        var union = string.Join("\nUNION ALL\n", parts);
        cmd.CommandText = $"""
            SELECT {keyList}coalesce(sum(impressions), 0)::bigint, coalesce(round(hll_cardinality(hll_union_agg(reach))), 0)::bigint,
                   coalesce(sum(clicks), 0)::bigint, coalesce(sum(conversions), 0)::bigint, coalesce(sum(cost), 0), coalesce(sum(revenue), 0)
            FROM ({union}) AS parts
            {outer}
            """;
        return cmd;
    }
}
