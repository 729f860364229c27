using System.Globalization;
using System.Text.Json;
using Attribution.Projections.Lakehouse;
using Attribution.Projections.Lakehouse.Export;
using Npgsql;

namespace Attribution.Tests.Lakehouse;

/// <summary>
/// What the exported tables must hold, read straight from PostgreSQL with SQL of the test's own, and the checks
/// that compare it with what the independent readers return.
/// </summary>
internal static class ExportExpectations
{
    public static Task<Dictionary<string, object?[]>> BronzeAsync(NpgsqlDataSource db) => ReadAsync(db, LakehouseTables.Bronze.Schema, """
        SELECT event_id, event_type, event_time, stream_id, campaign_id, creative_id, user_id, geo_country, platform,
               bid_price::float8, conversion_value::float8, conversion_type, click_id, ingest_time, kafka_partition,
               kafka_offset, seq, stream_version, raw_payload::text, ip_address, user_agent
        FROM events
        """);

    public static Task<Dictionary<string, object?[]>> GoldAsync(NpgsqlDataSource db) => ReadAsync(db, LakehouseTables.Gold.Schema, """
        SELECT impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked, is_converted,
               impression_time, click_time, conversion_time, cost::float8, revenue::float8, eligible, is_late, late_by_ms,
               revenue_out_of_window::float8, last_updated_ts, click_count, invalid_click_count, fraud_suspected, fraud_reasons
        FROM ad_performance_state
        """);

    private static async Task<Dictionary<string, object?[]>> ReadAsync(NpgsqlDataSource db, TableSchema schema, string sql)
    {
        var rows = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        await using var cmd = db.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object?[schema.Fields.Count];
            for (var c = 0; c < row.Length; c++) row[c] = ColumnValues.Canonical(schema.Fields[c].Type, reader.GetValue(c));
            rows[(string)row[0]!] = row;
        }

        return rows;
    }

    /// <summary>
    /// Every row of <paramref name="read"/> (an array of objects keyed by column name) equals the expected row of
    /// the same key, and every expected row is there exactly once.
    /// </summary>
    public static void AssertRows(TableSchema schema, Dictionary<string, object?[]> expected, JsonElement read, bool timestampsAsDates, string context)
    {
        Assert.Equal(expected.Count, read.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var row in read.EnumerateArray()) AssertRow(schema, expected, row, timestampsAsDates, context, seen);
    }

    public static void AssertRow(TableSchema schema, Dictionary<string, object?[]> expected, JsonElement row, bool timestampsAsDates, string context,
        HashSet<string>? seen = null)
    {
        var key = row.GetProperty(schema.Fields[0].Name).GetString()!;
        Assert.True(seen?.Add(key) ?? true, $"{context}: {key} read twice");
        Assert.True(expected.TryGetValue(key, out var want), $"{context}: unexpected row {key}");
        for (var c = 1; c < schema.Fields.Count; c++)
        {
            var f = schema.Fields[c];
            row.TryGetProperty(f.Name, out var value);
            var where = $"{context}: {key}.{f.Name}";
            if (f.Type == ColumnType.TimestampTz && timestampsAsDates && want![c] is long micros)
            {
                // icebird hands timestamps out as JS Dates: millisecond precision.
                var ms = Math.DivRem(micros, 1000, out var rem) - (rem < 0 ? 1 : 0);
                Assert.True(value.ValueKind == JsonValueKind.String, $"{where}: expected a time, got {value}");
                Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ms), DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture));
            }
            else
            {
                TestData.AssertJsValue(f.Type, want![c], value, where);
            }
        }
    }
}
