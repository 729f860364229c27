using Attribution.Domain.Campaigns;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Campaigns;

/// <summary>One campaign's spend on one UTC day against the budget in force that day.</summary>
/// <param name="SpendToDate">Every cost of the campaign up to the end of the day, for LIFETIME budgets.</param>
/// <param name="CampaignKey">The version in force at the end of the day (the last one valid during it), if any.</param>
/// <param name="Versions">How many versions were valid during the day (more than one: the budget changed that day).</param>
/// <param name="Pacing">Spend over budget as <see cref="BudgetPacing"/> defines it; null without a budget to compare with.</param>
public sealed record PacingRow(
    string CampaignId,
    DateTime Day,
    long Impressions,
    decimal Spend,
    decimal SpendToDate,
    long? CampaignKey,
    decimal? BudgetAmount,
    string? BudgetType,
    string? Status,
    long Versions,
    decimal? Pacing);

/// <summary>The pacing view: spend (from the daily rollup) against dim_campaigns, per campaign per UTC day.</summary>
public sealed class PacingQueries(NpgsqlDataSource dataSource)
{
    /// <summary>Every campaign with spend or a version in the days that overlap [from, to), every such day.</summary>
    public async Task<List<PacingRow>> PacingAsync(DateTime from, DateTime to, string? campaignId, CancellationToken ct)
    {
        var firstDay = from.Date;
        var endDay = to.Date == to ? to.Date : to.Date.AddDays(1);
        // Intervals of 24 hours, never '1 day': a day interval follows the session time zone's daylight saving.
        await using var cmd = dataSource.CreateCommand("""
            WITH days AS (SELECT generate_series($1::timestamptz, $2::timestamptz - interval '24 hours', interval '24 hours') AS day),
            daily AS (
                SELECT campaign_id, day, sum(cost) AS spend, sum(impressions)::bigint AS impressions
                FROM metrics_daily
                WHERE day < $2 AND campaign_id IS NOT NULL AND ($3::text IS NULL OR campaign_id = $3)
                GROUP BY 1, 2),
            earlier AS (SELECT campaign_id, sum(spend) AS spend FROM daily WHERE day < $1 GROUP BY 1),
            campaigns AS (
                SELECT campaign_id FROM daily WHERE day >= $1
                UNION
                SELECT campaign_id FROM dim_campaigns
                WHERE start_ts < $2 AND end_ts > $1 AND ($3::text IS NULL OR campaign_id = $3)),
            grid AS (
                SELECT c.campaign_id, d.day, coalesce(x.spend, 0) AS spend, coalesce(x.impressions, 0) AS impressions
                FROM campaigns c CROSS JOIN days d
                LEFT JOIN daily x ON x.campaign_id = c.campaign_id AND x.day = d.day)
            SELECT g.campaign_id, g.day, g.impressions, g.spend,
                   coalesce(e.spend, 0) + sum(g.spend) OVER (PARTITION BY g.campaign_id ORDER BY g.day),
                   v.campaign_key, v.budget_amount, v.budget_type, v.status, coalesce(v.versions, 0)
            FROM grid g
            LEFT JOIN earlier e USING (campaign_id)
            LEFT JOIN LATERAL (
                SELECT d.campaign_key, d.budget_amount, d.budget_type, d.status, count(*) OVER () AS versions
                FROM dim_campaigns d
                WHERE d.campaign_id = g.campaign_id AND d.start_ts < g.day + interval '24 hours' AND d.end_ts > g.day
                ORDER BY d.start_ts DESC
                LIMIT 1) v ON true
            ORDER BY g.campaign_id, g.day
            """);
        cmd.Parameters.Add(new() { Value = DateTime.SpecifyKind(firstDay, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = DateTime.SpecifyKind(endDay, DateTimeKind.Utc), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)campaignId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        var rows = new List<PacingRow>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var spend = reader.GetDecimal(3);
            var toDate = reader.GetDecimal(4);
            decimal? budget = reader.IsDBNull(6) ? null : reader.GetDecimal(6);
            var budgetType = reader.IsDBNull(7) ? null : reader.GetString(7);
            rows.Add(new PacingRow(reader.GetString(0), DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc), reader.GetInt64(2),
                spend, toDate, reader.IsDBNull(5) ? null : reader.GetInt64(5), budget, budgetType,
                reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetInt64(9),
                BudgetPacing.Pacing(budgetType, budget, spend, toDate)));
        }

        return rows;
    }
}
