using Attribution.Domain.Metrics;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Analytics;

public sealed record FrequencyReport(
    long Users,
    long Converters,
    double? ConversionRate,
    double? AvgImpressionsBeforeConversion,
    IReadOnlyList<FrequencyPoint> Distribution,
    IReadOnlyList<FrequencyBucketStats> Buckets);

/// <summary>How many converters saw exactly this many impressions before converting.</summary>
public sealed record FrequencyPoint(long ImpressionsBeforeConversion, long Converters);

/// <param name="Steps">"EVENT_TYPE:campaign_id" in time order, repeats in a row collapsed; a longer path keeps its last steps.</param>
public sealed record PathRow(IReadOnlyList<string> Steps, bool Truncated, long Users, long Converters, double? ConversionRate);

public sealed record PathsReport(long Users, long Converters, long DistinctPaths, IReadOnlyList<PathRow> Paths);

public sealed record ReachRow(string? CampaignId, long Impressions, long UniqueUsers, double? ImpressionsPerUser, long ImpressionsWithoutUser);

public sealed record ReachPoint(long Impressions, long Users);

public sealed record ReachReport(ReachRow Total, IReadOnlyList<ReachRow> Campaigns, IReadOnlyList<ReachPoint> ImpressionsPerUserDistribution);

/// <summary>
/// Behavioural analytics over Bronze, the events table (design 000 §4.2). An event's user and campaign are its
/// impression's (Gold), falling back to what the event itself carried, so clicks and postbacks that name only the
/// impression still belong to the right user. Impressions are counted once per impression_id.
/// </summary>
public sealed class BehaviourQueries(NpgsqlDataSource dataSource)
{
    private const string Events = """
        SELECT e.stream_id, e.seq, e.event_type, e.event_time,
               coalesce(g.user_id, e.user_id) AS user_id, coalesce(g.campaign_id, e.campaign_id) AS campaign_id
        FROM events e LEFT JOIN ad_performance_state g ON g.impression_id = e.stream_id
        WHERE e.event_time >= $1 AND e.event_time < $2
        """;

    /// <summary>Effective frequency: impressions seen before the first conversion, per user, in [from, to).</summary>
    public async Task<FrequencyReport> FrequencyAsync(DateTime from, DateTime to, string? campaignId, CancellationToken ct)
    {
        await using var cmd = Command($"""
            WITH ev AS ({Events} AND e.event_type IN ('IMPRESSION', 'CONVERSION')),
            scoped AS (SELECT * FROM ev WHERE user_id IS NOT NULL AND ($3::text IS NULL OR campaign_id = $3)),
            first_conversion AS (SELECT user_id, min(event_time) AS t FROM scoped WHERE event_type = 'CONVERSION' GROUP BY user_id),
            per_user AS (
                SELECT s.user_id,
                       count(DISTINCT s.stream_id) FILTER (WHERE s.event_type = 'IMPRESSION' AND (f.t IS NULL OR s.event_time < f.t)) AS frequency,
                       f.t IS NOT NULL AS converted
                FROM scoped s LEFT JOIN first_conversion f USING (user_id)
                GROUP BY s.user_id, f.t)
            SELECT frequency, converted, count(*) FROM per_user GROUP BY 1, 2 ORDER BY 1, 2
            """, from, to, campaignId);
        var groups = new List<FrequencyGroup>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) groups.Add(new FrequencyGroup(reader.GetInt64(0), reader.GetBoolean(1), reader.GetInt64(2)));
        }

        var users = groups.Sum(g => g.Users);
        var converted = groups.Where(g => g.Converted).ToList();
        var converters = converted.Sum(g => g.Users);
        return new FrequencyReport(users, converters,
            users == 0 ? null : (double)converters / users,
            converters == 0 ? null : (double)converted.Sum(g => g.Frequency * g.Users) / converters,
            converted.Select(g => new FrequencyPoint(g.Frequency, g.Users)).ToList(),
            FrequencyBuckets.Summarize(groups));
    }

    /// <summary>
    /// The most common paths: each user's impressions and clicks in time order up to their first conversion (all of
    /// them when they did not convert). With a campaign, the users who met it, with their whole paths.
    /// </summary>
    public async Task<PathsReport> PathsAsync(DateTime from, DateTime to, string? campaignId, int limit, int maxSteps, CancellationToken ct)
    {
        await using var cmd = Command($"""
            WITH ev AS ({Events}),
            scoped AS (
                SELECT * FROM ev
                WHERE user_id IS NOT NULL
                  AND ($3::text IS NULL OR user_id IN (SELECT user_id FROM ev WHERE campaign_id = $3 AND user_id IS NOT NULL))),
            first_conversion AS (SELECT user_id, min(event_time) AS t FROM scoped WHERE event_type = 'CONVERSION' GROUP BY user_id),
            steps AS (
                SELECT s.user_id, s.event_type || ':' || coalesce(s.campaign_id, '?') AS step, s.event_time, s.seq
                FROM scoped s LEFT JOIN first_conversion f USING (user_id)
                WHERE s.event_type <> 'CONVERSION' AND (f.t IS NULL OR s.event_time < f.t)),
            marked AS (
                SELECT user_id, step, event_time, seq,
                       step IS DISTINCT FROM lag(step) OVER (PARTITION BY user_id ORDER BY event_time, seq) AS starts_run
                FROM steps),
            paths AS (
                SELECT user_id, array_agg(step ORDER BY event_time, seq) FILTER (WHERE starts_run) AS path
                FROM marked GROUP BY user_id),
            trimmed AS (
                SELECT p.user_id, cardinality(p.path) > $4 AS truncated,
                       p.path[greatest(1, cardinality(p.path) - $4 + 1):] AS path, f.user_id IS NOT NULL AS converted
                FROM paths p LEFT JOIN first_conversion f USING (user_id))
            SELECT path, bool_or(truncated), count(*), count(*) FILTER (WHERE converted),
                   count(*) OVER (), sum(count(*)) OVER (), sum(count(*) FILTER (WHERE converted)) OVER ()
            FROM trimmed
            GROUP BY path, truncated
            ORDER BY 3 DESC, 4 DESC, path
            LIMIT $5
            """, from, to, campaignId, maxSteps, limit);
        var rows = new List<PathRow>();
        long users = 0, converters = 0, distinct = 0;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var n = reader.GetInt64(2);
            var c = reader.GetInt64(3);
            rows.Add(new PathRow(reader.GetFieldValue<string[]>(0), reader.GetBoolean(1), n, c, (double)c / n));
            distinct = reader.GetInt64(4);
            users = (long)reader.GetDecimal(5);
            converters = (long)reader.GetDecimal(6);
        }

        return new PathsReport(users, converters, distinct, rows);
    }

    /// <summary>Unique reach: distinct users (exact) and impressions per user, in total and per campaign.</summary>
    public async Task<ReachReport> ReachAsync(DateTime from, DateTime to, string? campaignId, CancellationToken ct)
    {
        const string Impressions = "imp AS (SELECT DISTINCT ON (stream_id) stream_id, user_id, campaign_id FROM ev WHERE ($3::text IS NULL OR campaign_id = $3))";
        var rows = new List<ReachRow>();
        ReachRow? total = null;
        await using (var cmd = Command($"""
            WITH ev AS ({Events} AND e.event_type = 'IMPRESSION'), {Impressions}
            SELECT GROUPING(campaign_id) <> 0, campaign_id, count(*), count(DISTINCT user_id), count(*) FILTER (WHERE user_id IS NULL)
            FROM imp GROUP BY GROUPING SETS ((campaign_id), ())
            ORDER BY 1 DESC, 2
            """, from, to, campaignId))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                var impressions = reader.GetInt64(2);
                var unique = reader.GetInt64(3);
                var row = new ReachRow(reader.IsDBNull(1) ? null : reader.GetString(1), impressions, unique,
                    unique == 0 ? null : (double)(impressions - reader.GetInt64(4)) / unique, reader.GetInt64(4));
                if (reader.GetBoolean(0)) total = row;
                else rows.Add(row);
            }
        }

        var distribution = new List<ReachPoint>();
        await using (var cmd = Command($"""
            WITH ev AS ({Events} AND e.event_type = 'IMPRESSION'), {Impressions},
            per_user AS (SELECT user_id, count(*) AS n FROM imp WHERE user_id IS NOT NULL GROUP BY user_id)
            SELECT n, count(*) FROM per_user GROUP BY n ORDER BY n
            """, from, to, campaignId))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) distribution.Add(new ReachPoint(reader.GetInt64(0), reader.GetInt64(1)));
        }

        return new ReachReport(total ?? new ReachRow(null, 0, 0, null, 0), rows, distribution);
    }

    private NpgsqlCommand Command(string sql, DateTime from, DateTime to, string? campaignId, params int[] more)
    {
        var cmd = dataSource.CreateCommand(sql);
        cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)campaignId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        foreach (var m in more) cmd.Parameters.Add(new() { Value = m });
        return cmd;
    }
}
