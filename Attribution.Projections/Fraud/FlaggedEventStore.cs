using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Fraud;

/// <summary>The fraud_flagged_events table (its owner): written with Gold, read by the fraud summary and event list.</summary>
public sealed class FlaggedEventStore(NpgsqlDataSource db)
{
    /// <summary>Replaces the flagged events of the folded impressions: <paramref name="cleared"/> are those that held
    /// flags before (the others have no rows to remove), <paramref name="flagged"/> what the fold flags now.</summary>
    public static async Task ReplaceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyCollection<string> cleared,
        IReadOnlyCollection<FlaggedEvent> flagged, CancellationToken ct)
    {
        if (cleared.Count > 0)
        {
            await using var delete = new NpgsqlCommand("DELETE FROM fraud_flagged_events WHERE impression_id = ANY($1)", conn, tx);
            delete.Parameters.Add(new() { Value = cleared.ToArray() });
            await delete.ExecuteNonQueryAsync(ct);
        }

        if (flagged.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO fraud_flagged_events (event_id, impression_id, event_type, event_time, campaign_id, rules, spend_excluded, revenue_excluded)
            SELECT u.event_id, u.impression_id, u.event_type, u.event_time, u.campaign_id, string_to_array(u.rules, ','), u.spend, u.revenue
            FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::numeric[], $8::numeric[])
                 AS u(event_id, impression_id, event_type, event_time, campaign_id, rules, spend, revenue)
            ON CONFLICT (event_id) DO UPDATE SET impression_id = EXCLUDED.impression_id, event_type = EXCLUDED.event_type,
                event_time = EXCLUDED.event_time, campaign_id = EXCLUDED.campaign_id, rules = EXCLUDED.rules,
                spend_excluded = EXCLUDED.spend_excluded, revenue_excluded = EXCLUDED.revenue_excluded
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.EventId).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.ImpressionId).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.Type.ToWire()).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.EventTime).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.CampaignId).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => string.Join(',', f.Rules.Select(r => r.ToWire()))).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.SpendExcluded).ToArray() });
        cmd.Parameters.Add(new() { Value = flagged.Select(f => f.RevenueExcluded).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A rebuild derives every row again; impressions retired from the event store keep theirs, like Gold.</summary>
    public static async Task ClearForRebuildAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            DELETE FROM fraud_flagged_events f WHERE NOT EXISTS (SELECT 1 FROM retired_impressions r WHERE r.impression_id = f.impression_id)
            """, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The flagged events with event time in [from, to), summed per campaign and rule.</summary>
    public async Task<FraudSummary> SummaryAsync(DateTime from, DateTime to, string? campaignId, CancellationToken ct)
    {
        var summary = new FraudSummary();
        await foreach (var e in ReadAsync(from, to, campaignId, null, null, ct)) summary.Add(e);
        return summary;
    }

    /// <summary>The flagged events with event time in [from, to), of one rule or all, oldest first.</summary>
    public async Task<List<FlaggedEvent>> EventsAsync(DateTime from, DateTime to, FraudRule? rule, int limit, CancellationToken ct)
    {
        var events = new List<FlaggedEvent>();
        await foreach (var e in ReadAsync(from, to, null, rule, limit, ct)) events.Add(e);
        return events;
    }

    /// <summary>Per hour or day of [from, to): the impressions served (the campaign rollup) and the events each rule
    /// flagged, for the dashboard's flagged share over time.</summary>
    public async Task<List<FraudSeriesPoint>> SeriesAsync(DateTime from, DateTime to, bool daily, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH flagged AS (
                SELECT date_trunc($3, event_time, 'UTC') AS bucket, r AS rule, count(*) AS events
                FROM fraud_flagged_events, unnest(rules) r
                WHERE event_time >= $1 AND event_time < $2
                GROUP BY 1, 2),
            served AS (
                SELECT date_trunc($3, hour, 'UTC') AS bucket, sum(impressions)::bigint AS impressions
                FROM metrics_hourly_campaign WHERE hour >= $1 AND hour < $2
                GROUP BY 1)
            SELECT coalesce(s.bucket, f.bucket) AS bucket, coalesce(s.impressions, 0), f.rule, coalesce(f.events, 0)
            FROM served s FULL JOIN flagged f ON f.bucket = s.bucket
            ORDER BY 1, 3
            """);
        cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = daily ? "day" : "hour" });
        var points = new List<FraudSeriesPoint>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var bucket = DateTime.SpecifyKind(reader.GetDateTime(0), DateTimeKind.Utc);
            if (points.Count == 0 || points[^1].Bucket != bucket) points.Add(new FraudSeriesPoint(bucket, reader.GetInt64(1), []));
            if (!reader.IsDBNull(2)) points[^1].Flagged[reader.GetString(2)] = reader.GetInt64(3);
        }

        return points;
    }

    private async IAsyncEnumerable<FlaggedEvent> ReadAsync(DateTime from, DateTime to, string? campaignId, FraudRule? rule, int? limit,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT event_id, impression_id, event_type, event_time, campaign_id, rules, spend_excluded, revenue_excluded
            FROM fraud_flagged_events
            WHERE event_time >= $1 AND event_time < $2 AND ($3::text IS NULL OR campaign_id = $3) AND ($4::text IS NULL OR $4 = ANY(rules))
            ORDER BY event_time, event_id
            LIMIT $5
            """);
        cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)campaignId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)rule?.ToWire() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)limit ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return new FlaggedEvent(reader.GetString(0), reader.GetString(1), EventTypeNames.TryParse(reader.GetString(2)) ?? throw new InvalidDataException($"unknown event type '{reader.GetString(2)}'"),
                DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc), reader.IsDBNull(4) ? null : reader.GetString(4),
                [.. reader.GetFieldValue<string[]>(5).Select(r => FraudRules.TryParse(r) ?? throw new InvalidDataException($"unknown fraud rule '{r}'"))],
                reader.GetDecimal(6), reader.GetDecimal(7));
        }
    }
}

/// <summary>One hour or day: impressions served, and the events each rule (by wire name) flagged.</summary>
public sealed record FraudSeriesPoint(DateTime Bucket, long Impressions, Dictionary<string, long> Flagged);
