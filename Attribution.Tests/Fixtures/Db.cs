using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>Small reads the tests make of the engine's tables.</summary>
public static class Db
{
    public static async Task<long> CountAsync(NpgsqlDataSource db, string sql, params object[] args)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    /// <summary>Every Gold row as text, except the write timestamp, in impression order.</summary>
    public static async Task<List<string>> GoldSnapshotAsync(NpgsqlDataSource db, bool withLateness = true)
    {
        var lateness = withLateness ? ", is_late, late_by_ms" : "";
        await using var cmd = db.CreateCommand($"""
            SELECT concat_ws('|', impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked, is_converted,
                   impression_time, click_time, conversion_time, cost, revenue, eligible, revenue_out_of_window{lateness},
                   click_count, invalid_click_count, fraud_suspected, fraud_reasons)
            FROM ad_performance_state ORDER BY impression_id COLLATE "C"
            """);
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }

    /// <summary>The audit outcomes as (event_id, reason), sorted: what order independence compares.</summary>
    public static async Task<List<string>> AuditSnapshotAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand(
            "SELECT o FROM (SELECT coalesce(event_id, '-') || ':' || reason AS o FROM audit_log) a ORDER BY o COLLATE \"C\"");
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
