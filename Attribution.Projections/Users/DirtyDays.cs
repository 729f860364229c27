using Npgsql;

namespace Attribution.Projections.Users;

/// <summary>
/// The days whose audience cells no longer hold: days of Gold rows changed past the cube's watermark, and every day
/// from the earliest impression time a profile change past it regroups (<see cref="Domain.Users.Audience.RegroupsFrom"/>).
/// </summary>
internal sealed record DirtyDays(IReadOnlySet<DateOnly> GoldDays, DateOnly? RegroupedFrom)
{
    public bool Contains(DateOnly day) => GoldDays.Contains(day) || RegroupedFrom is { } from && day >= from;

    /// <summary>The changes past the watermark up to the given markers (long.MaxValue: everything committed).</summary>
    public static async Task<DirtyDays> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long goldTo, long usersTo, CancellationToken ct)
    {
        var days = new HashSet<DateOnly>();
        await using (var gold = new NpgsqlCommand("""
            SELECT DISTINCT (f.impression_time AT TIME ZONE 'UTC')::date FROM ad_performance_state f
            WHERE f.change_seq > (SELECT gold_seq FROM audience_watermark WHERE id = 1) AND f.change_seq <= $1
              AND f.impression_time IS NOT NULL
            """, conn, tx))
        {
            gold.Parameters.Add(new() { Value = goldTo });
            await using var reader = await gold.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) days.Add(reader.GetFieldValue<DateOnly>(0));
        }

        await using var users = new NpgsqlCommand("""
            SELECT (min(coalesce(regroups_from, start_ts)) AT TIME ZONE 'UTC')::date FROM dim_users
            WHERE merge_seq > (SELECT users_seq FROM audience_watermark WHERE id = 1) AND merge_seq <= $1
            """, conn, tx);
        users.Parameters.Add(new() { Value = usersTo });
        var from = await users.ExecuteScalarAsync(ct);
        return new DirtyDays(days, from is DateOnly d ? d : null);
    }

    /// <summary>The Gold days, and the days a profile change regroups that hold impressions or cells.</summary>
    public async Task<List<DateOnly>> DaysToRebuildAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var days = new SortedSet<DateOnly>(GoldDays);
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
            cmd.Parameters.Add(new() { Value = from });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) days.Add(reader.GetFieldValue<DateOnly>(0));
        }

        return [.. days];
    }
}
