using Attribution.Domain.Users;
using Npgsql;

namespace Attribution.Projections.Users;

/// <summary>One audience group: its keys (one per group_by dimension, in that order) and its sums.</summary>
public sealed record AudienceRow(IReadOnlyList<string> Keys, long Impressions, long UniqueReach, long Clicks, long Conversions, decimal Cost, decimal Revenue);

/// <summary>
/// Audience analysis over Gold and dim_users: each impression joined to the user version valid at its impression
/// time (design 000 §3.4's point-in-time join), grouped by bands with Audience's rules (absent is "unknown"; an
/// impression counts in each of its user's interests).
/// </summary>
public sealed class AudienceQueries(NpgsqlDataSource dataSource)
{
    /// <summary>The SQL expression of each dimension's group over the joined user version <c>u</c> (and the unnested
    /// interest <c>i</c>); the names come from Audience.Dimensions only, so they may be spliced into the text.</summary>
    private static readonly Dictionary<string, string> GroupSql = new(StringComparer.Ordinal)
    {
        ["age_band"] = $"coalesce(u.age_band, '{UserProfile.Unknown}')",
        ["gender"] = $"coalesce(u.gender, '{UserProfile.Unknown}')",
        ["country"] = $"coalesce(u.country, '{UserProfile.Unknown}')",
        ["segment"] = $"coalesce(u.segment, '{UserProfile.Unknown}')",
        ["interest"] = "i.interest",
    };

    public async Task<List<AudienceRow>> QueryAsync(DateTime from, DateTime to, IReadOnlyList<string> groupBy, string? campaignId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(groupBy);
        var keys = groupBy.Select(d => GroupSql.TryGetValue(d, out var sql) ? sql : throw new ArgumentException($"'{d}' is not an audience dimension", nameof(groupBy))).ToList();
        var select = keys.Count == 0 ? "" : string.Join(", ", keys) + ", ";
        var group = keys.Count == 0 ? "" : "GROUP BY " + string.Join(", ", Enumerable.Range(1, keys.Count)) + " ORDER BY " + string.Join(", ", Enumerable.Range(1, keys.Count));
        var interests = groupBy.Contains("interest")
            ? $"CROSS JOIN LATERAL unnest(CASE WHEN cardinality(u.interests) > 0 THEN u.interests ELSE ARRAY['{UserProfile.Unknown}'] END) AS i(interest)"
            : "";
        var sql = $"""
            SELECT {select}count(*), count(DISTINCT f.user_id), count(*) FILTER (WHERE f.is_clicked), count(*) FILTER (WHERE f.is_converted),
                   coalesce(sum(f.cost), 0), coalesce(sum(f.revenue), 0)
            FROM ad_performance_state f
            LEFT JOIN dim_users u ON u.user_id = f.user_id AND f.impression_time >= u.start_ts AND f.impression_time < u.end_ts
            {interests}
            WHERE f.impression_time >= $1 AND f.impression_time < $2{(campaignId is null ? "" : " AND f.campaign_id = $3")}
            {group}
            """;
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new() { Value = DateTime.SpecifyKind(from, DateTimeKind.Utc) });
        cmd.Parameters.Add(new() { Value = DateTime.SpecifyKind(to, DateTimeKind.Utc) });
        // Only a filter that is there goes into the text: "$3 IS NULL OR campaign_id = $3" keeps the planner off the
        // (campaign_id, impression_time) index.
        if (campaignId is not null) cmd.Parameters.Add(new() { Value = campaignId });
        var rows = new List<AudienceRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var n = keys.Count;
        while (await reader.ReadAsync(ct))
        {
            if (reader.GetInt64(n) == 0) continue; // no group at all: the empty range's single row of zeros
            rows.Add(new AudienceRow(Enumerable.Range(0, n).Select(reader.GetString).ToList(), reader.GetInt64(n), reader.GetInt64(n + 1),
                reader.GetInt64(n + 2), reader.GetInt64(n + 3), reader.GetDecimal(n + 4), reader.GetDecimal(n + 5)));
        }

        return rows;
    }
}
