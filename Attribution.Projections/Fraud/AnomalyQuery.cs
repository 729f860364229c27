using Attribution.Domain.Fraud;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Fraud;

/// <summary>Campaign × hour clicks and impressions from the campaign rollup, with the trailing week each hour is
/// scored against.</summary>
public sealed class AnomalyQuery(NpgsqlDataSource db)
{
    public async Task<List<Anomaly>> FindAsync(DateTime from, DateTime to, string? campaignId, double threshold, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT campaign_id, hour, impressions, clicks FROM metrics_hourly_campaign
            WHERE hour >= $1 AND hour < $2 AND campaign_id IS NOT NULL AND ($3::text IS NULL OR campaign_id = $3) AND impressions > 0
            """);
        cmd.Parameters.Add(new() { Value = from - Anomalies.BaselineSpan, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)campaignId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var cells = new List<HourlyCell>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
                cells.Add(new HourlyCell(reader.GetString(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return Anomalies.Find(cells, from, to, threshold);
    }
}
