using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Users;

/// <summary>The half-open impression-time ranges an audience query reads (of Gold or of the facts, as <c>f</c>).</summary>
internal static class AudienceRanges
{
    /// <summary>Each range as a pair of parameters of its own (from <paramref name="first"/> on), so the planner sees
    /// how many rows they hold.</summary>
    public static string Where(IReadOnlyList<(DateTime From, DateTime To)> ranges, int first) =>
        string.Join(" OR ", ranges.Select((_, i) => $"(f.impression_time >= ${first + 2 * i} AND f.impression_time < ${first + 1 + 2 * i})"));

    public static void Add(NpgsqlCommand cmd, IReadOnlyList<(DateTime From, DateTime To)> ranges)
    {
        foreach (var (from, to) in ranges)
        {
            cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        }
    }

    /// <summary>Below this many live Gold rows (the planner's estimate) their profiles are looked up by index.</summary>
    private const double IndexLookupRows = 100_000;

    /// <summary>
    /// The planner joins the live rows to dim_users by hashing: it reads all of dim_users (390 ms for 1 M versions)
    /// even for the hour or two of a range's edges, where looking each user up by index takes 76 ms for 14,000 rows
    /// (issue 21's bench). Its costs do not see that the index is cached, so for few rows the transaction turns the
    /// other joins off; many rows (days read from Gold) keep the hash join.
    /// </summary>
    public static async Task JoinProfilesByIndexIfFewAsync(IReadOnlyList<(DateTime From, DateTime To)> live, string? campaignId,
        NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var estimate = new NpgsqlCommand(
            $"EXPLAIN (FORMAT JSON) SELECT 1 FROM ad_performance_state f WHERE ({Where(live, 1)}){(campaignId is null ? "" : $" AND f.campaign_id = ${1 + 2 * live.Count}")}",
            conn, tx);
        Add(estimate, live);
        if (campaignId is not null) estimate.Parameters.Add(new() { Value = campaignId });
        using var json = System.Text.Json.JsonDocument.Parse((string)(await estimate.ExecuteScalarAsync(ct))!);
        if (json.RootElement[0].GetProperty("Plan").GetProperty("Plan Rows").GetDouble() >= IndexLookupRows) return;
        await using var off = new NpgsqlCommand("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off", conn, tx);
        await off.ExecuteNonQueryAsync(ct);
    }
}
