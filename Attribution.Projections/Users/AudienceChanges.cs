using Attribution.Domain.Users;
using Npgsql;

namespace Attribution.Projections.Users;

/// <summary>
/// What changed past the audience cube's watermark: the hours of Gold rows changed, and the earliest impression time a
/// profile change regroups (<see cref="Audience.RegroupsFrom"/>). The refresh rebuilds their days; until then a query
/// reads those hours from Gold (<see cref="AudienceFreshness"/>).
/// </summary>
internal sealed record AudienceChanges(IReadOnlySet<DateTime> GoldHours, DateTime? RegroupedFrom)
{
    /// <summary>The changes past the watermark up to the given markers (long.MaxValue: everything committed).</summary>
    public static async Task<AudienceChanges> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long goldTo, long usersTo, CancellationToken ct)
    {
        var hours = new HashSet<DateTime>();
        await using (var gold = new NpgsqlCommand("""
            SELECT DISTINCT date_bin('1 hour', f.impression_time, timestamptz '2000-01-01 00:00:00+00') FROM ad_performance_state f
            WHERE f.change_seq > (SELECT gold_seq FROM audience_watermark WHERE id = 1) AND f.change_seq <= $1
              AND f.impression_time IS NOT NULL
            """, conn, tx))
        {
            gold.Parameters.Add(new() { Value = goldTo });
            await using var reader = await gold.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) hours.Add(reader.GetDateTime(0));
        }

        await using var users = new NpgsqlCommand("""
            SELECT min(coalesce(regroups_from, start_ts)) FROM dim_users
            WHERE merge_seq > (SELECT users_seq FROM audience_watermark WHERE id = 1) AND merge_seq <= $1
            """, conn, tx);
        users.Parameters.Add(new() { Value = usersTo });
        var from = await users.ExecuteScalarAsync(ct);
        return new AudienceChanges(hours, from is DateTime d ? d : null);
    }

    /// <summary>The freshness of the cube's built days under these changes.</summary>
    public AudienceFreshness Over(IReadOnlySet<DateOnly> builtDays) => new(builtDays, GoldHours, RegroupedFrom);

    /// <summary>The days of the changed Gold hours, and the days a profile change regroups that hold impressions or cells.</summary>
    public async Task<List<DateOnly>> DaysToRebuildAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var days = new SortedSet<DateOnly>(GoldHours.Select(DateOnly.FromDateTime));
        if (RegroupedFrom is { } from)
        {
            await using var cmd = new NpgsqlCommand("""
                WITH bounds AS (
                    SELECT greatest($1, least((SELECT (min(impression_time) AT TIME ZONE 'UTC')::date FROM ad_performance_state),
                                              (SELECT min(day) FROM audience_days))) AS first,
                           greatest((SELECT (max(impression_time) AT TIME ZONE 'UTC')::date FROM ad_performance_state),
                                    (SELECT max(day) FROM audience_days)) AS last)
                SELECT d::date FROM bounds, generate_series(bounds.first, bounds.last, interval '1 day') AS d
                WHERE bounds.first IS NOT NULL AND bounds.last IS NOT NULL
                """, conn);
            cmd.Parameters.Add(new() { Value = DateOnly.FromDateTime(from) });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) days.Add(reader.GetFieldValue<DateOnly>(0));
        }

        return [.. days];
    }
}
