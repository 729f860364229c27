using System.Diagnostics;
using System.Globalization;
using NpgsqlTypes;

namespace Attribution.Api.Cli;

/// <summary>One query shape's latencies; Targeted is false for a shape measured only to show what it costs.</summary>
internal sealed record QueryResult(string Name, string Path, int Runs, double P50Ms, double P95Ms, int Rows, bool Targeted = true);

internal sealed record QueriesResult(long Impressions, double LoadSeconds, IReadOnlyList<QueryResult> Queries);

/// <summary>
/// Part 4: the metrics API over a Gold table of M impressions (30 days, 20 campaigns), generated with binary COPY
/// straight into a bench database, queried through the service process over HTTP.
/// </summary>
internal static class BenchQueries
{
    private const int Campaigns = 20;
    private static readonly string[] Geos = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA"];
    private static readonly string[] Platforms = ["IOS", "ANDROID", "WEB", "CTV"];

    /// <summary>
    /// The typical questions, as URLs relative to "now"; all are answered from the hourly and daily rollups (with
    /// Gold only for partial hours at the edges of a range).
    /// </summary>
    private static List<(string Name, string Path)> Queries(DateTime now)
    {
        string T(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return
        [
            ("all campaigns, last 24 h", $"/api/v1/metrics/campaigns?from={T(now.AddDays(-1))}&to={T(now)}"),
            ("one campaign, last 7 days", $"/api/v1/metrics/campaigns?campaign_id=camp-07&from={T(now.AddDays(-7))}&to={T(now)}"),
            ("all campaigns, 30 days", $"/api/v1/metrics/campaigns?from={T(now.AddDays(-30))}&to={T(now)}"),
            ("campaign × day, 7 days (rollup)", $"/api/v1/metrics?group_by=campaign_id,day&from={T(now.AddDays(-7))}&to={T(now)}"),
            ("campaign × geo × platform, 30 days (rollup)", $"/api/v1/metrics?group_by=campaign_id,geo_country,platform&from={T(now.AddDays(-30))}&to={T(now)}"),
        ];
    }

    public static async Task<QueriesResult> RunAsync(string server, long impressions, int runs, bool keep, Action<string> say, CancellationToken ct)
    {
        await using var db = await BenchDatabase.CreateAsync(server, "queries", keep, ct);
        var now = DateTime.UtcNow;
        say($"queries: loading {impressions:N0} Gold rows with binary COPY");
        var sw = Stopwatch.StartNew();
        await LoadGoldAsync(db, impressions, now, ct);
        await AfterGoldLoadedAsync(db, ct);
        var load = sw.Elapsed.TotalSeconds;
        say($"queries: loaded in {load:N0} s; starting the service");

        await using var service = await ServiceProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
        {
            ["Kafka:BootstrapServers"] = "embedded",
            ["Kafka:RunConsumer"] = "false",
        }, "/health/ready", ct);
        using var http = new HttpClient { BaseAddress = service.Url, Timeout = TimeSpan.FromMinutes(2) };
        var results = new List<QueryResult>();
        foreach (var (name, path) in Queries(now))
        {
            using (var probe = await http.GetAsync(new Uri(path, UriKind.Relative), ct))
            {
                if ((int)probe.StatusCode == 404)
                {
                    say($"queries: {name}: not served yet (404), skipped");
                    continue;
                }

                probe.EnsureSuccessStatusCode();
            }

            var times = new List<double>();
            var rows = 0;
            for (var i = 0; i < runs + 2; i++)
            {
                var q = Stopwatch.StartNew();
                using var r = await http.GetAsync(new Uri(path, UriKind.Relative), ct);
                var body = await r.Content.ReadAsStringAsync(ct);
                r.EnsureSuccessStatusCode();
                if (i < 2) continue; // warm-up: plans and pages cached like a dashboard refreshing
                times.Add(q.Elapsed.TotalMilliseconds);
                rows = body.Split("\"campaign_id\"", StringSplitOptions.None).Length - 1;
            }

            times.Sort();
            results.Add(new QueryResult(name, path, runs, Samples.Percentile(times, 0.5), Samples.Percentile(times, 0.95), rows));
            say($"queries: {name}: p50 {results[^1].P50Ms:N1} ms, p95 {results[^1].P95Ms:N1} ms");
        }

        return new QueriesResult(impressions, load, results);
    }

    /// <summary>The hourly and daily rollups the metrics API reads are maintained by the pipeline, which this load
    /// bypasses: rebuild them from the generated Gold, as replay does.</summary>
    private static async Task AfterGoldLoadedAsync(BenchDatabase db, CancellationToken ct)
    {
        await using (var conn = await db.DataSource.OpenConnectionAsync(ct))
        await using (var tx = await conn.BeginTransactionAsync(ct))
        {
            await Attribution.Projections.Rollups.HourlyRollup.RebuildAsync(conn, tx, ct);
            await tx.CommitAsync(ct);
        }

        // Every tier, as autovacuum would leave them: without statistics the planner guesses the tiers' sizes.
        foreach (var table in Attribution.Projections.Rollups.RollupTiers.Tables) await db.ExecAsync($"VACUUM ANALYZE {table}", ct);
    }

    /// <summary>Secondary indexes are dropped for the load and rebuilt after it (as any bulk load does), from their
    /// own definitions, so the table ends up exactly as the migrations define it.</summary>
    internal static async Task LoadGoldAsync(BenchDatabase db, long impressions, DateTime now, CancellationToken ct)
    {
        var indexes = new List<(string Name, string Definition)>();
        await using (var cmd = db.DataSource.CreateCommand("""
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = 'ad_performance_state' AND i.schemaname = current_schema()
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) indexes.Add((reader.GetString(0), reader.GetString(1)));
        }

        foreach (var (name, _) in indexes) await db.ExecAsync($"DROP INDEX \"{name}\"", ct);

        var random = new Random(5);
        var span = TimeSpan.FromDays(30).Ticks;
        await using (var conn = await db.DataSource.OpenConnectionAsync(ct))
        {
            await using var copy = await conn.BeginBinaryImportAsync("""
                COPY ad_performance_state (impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked,
                    is_converted, impression_time, click_time, conversion_time, cost, revenue, eligible, is_late, late_by_ms,
                    revenue_out_of_window, last_updated_ts, stream_version) FROM STDIN (FORMAT BINARY)
                """, ct);
            for (var i = 0L; i < impressions; i++)
            {
                var campaign = random.Next(Campaigns) + 1;
                // In impression order, as the pipeline inserts them: the heap ends up clustered by time, like Gold's.
                var at = new DateTime(now.Ticks - span + (long)(span * ((double)i / impressions)) - random.Next(10_000_000), DateTimeKind.Utc);
                at = new DateTime(at.Ticks - at.Ticks % 10, DateTimeKind.Utc);
                var clicked = random.NextDouble() < 0.05;
                var converted = clicked && random.NextDouble() < 0.10;
                var click = clicked ? at.AddSeconds(1 + random.Next(60)) : (DateTime?)null;
                var conversion = converted ? click!.Value.AddSeconds(10 + random.Next(3600)) : (DateTime?)null;
                var late = random.NextDouble() < 0.01;
                await copy.StartRowAsync(ct);
                await copy.WriteAsync($"imp-bench-{i:D10}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync($"camp-{campaign:D2}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync($"camp-{campaign:D2}-cr-{random.Next(3) + 1}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync($"u-{random.Next(1_000_000):D7}", NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Geos[random.Next(Geos.Length)], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Platforms[random.Next(Platforms.Length)], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(clicked, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(converted, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(at, NpgsqlDbType.TimestampTz, ct);
                await Nullable(copy, click, ct);
                await Nullable(copy, conversion, ct);
                await copy.WriteAsync(Math.Round(0.5m + (decimal)random.NextDouble() * 1.5m, 6), NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(converted ? Math.Round(5m + (decimal)random.NextDouble() * 195m, 2) : 0m, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(true, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(late, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(late ? 3_600_000L + random.Next(3_600_000) : 0L, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(0m, NpgsqlDbType.Numeric, ct);
                await copy.WriteAsync(now, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(1 + (clicked ? 1 : 0) + (converted ? 1 : 0), NpgsqlDbType.Integer, ct);
            }

            await copy.CompleteAsync(ct);
        }

        foreach (var (_, definition) in indexes) await db.ExecAsync(definition, ct);
        await db.ExecAsync("VACUUM (ANALYZE) ad_performance_state", ct);
    }

    private static Task Nullable(Npgsql.NpgsqlBinaryImporter copy, DateTime? value, CancellationToken ct) =>
        value is { } v ? copy.WriteAsync(v, NpgsqlDbType.TimestampTz, ct) : copy.WriteNullAsync(ct);
}
