using System.Diagnostics;
using System.Globalization;
using Attribution.Projections.Users;
using Microsoft.Extensions.Logging.Abstractions;
using NpgsqlTypes;

namespace Attribution.Api.Cli;

internal sealed record AudienceResult(long Impressions, int Users, long Versions, double GoldLoadSeconds, double UsersLoadSeconds, AudienceRefresh Cube,
    IReadOnlyList<QueryResult> Queries);

/// <summary>
/// Part 6: GET /api/v1/audience over the Gold table of part 4 (M impressions over 30 days, users u-0000000 ..
/// u-0999999) and a dim_users of U users: 90 % with a profile, a tenth of those with a second version from the middle
/// of the range (so the point-in-time join has history to pick from). Both loaded with binary COPY.
/// </summary>
internal static class BenchAudience
{
    private static readonly string[] AgeBands = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
    private static readonly string[] Genders = ["female", "male", "other"];
    private static readonly string[] Interests = ["travel", "sports", "cooking", "gaming", "fashion", "finance", "music", "tech"];
    private static readonly string[] Segments = ["new", "returning", "loyal", "lapsed"];

    private static List<(string Name, string Path)> Queries(DateTime now)
    {
        string T(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        return
        [
            ("age_band × gender, last 24 h", $"/api/v1/audience?group_by=age_band,gender&from={T(now.AddDays(-1))}&to={T(now)}"),
            ("age_band × gender × segment × interest, last 24 h", $"/api/v1/audience?group_by=age_band,gender,segment,interest&from={T(now.AddDays(-1))}&to={T(now)}"),
            ("one campaign, age_band × segment, last 7 days", $"/api/v1/audience?group_by=age_band,segment&campaign_id=camp-07&from={T(now.AddDays(-7))}&to={T(now)}"),
            ("interest, last 7 days", $"/api/v1/audience?group_by=interest&from={T(now.AddDays(-7))}&to={T(now)}"),
            ("segment, 30 days (every impression)", $"/api/v1/audience?group_by=segment&from={T(now.AddDays(-31))}&to={T(now.AddDays(1))}"),
        ];
    }

    public static async Task<AudienceResult> RunAsync(string server, long impressions, int users, int runs, bool keep, Action<string> say, CancellationToken ct)
    {
        await using var db = await BenchDatabase.CreateAsync(server, "audience", keep, ct);
        var now = DateTime.UtcNow;
        say($"audience: loading {impressions:N0} Gold rows with binary COPY");
        var sw = Stopwatch.StartNew();
        await BenchQueries.LoadGoldAsync(db, impressions, now, ct);
        var goldLoad = sw.Elapsed.TotalSeconds;
        say($"audience: Gold loaded in {goldLoad:N0} s; loading {users:N0} users");
        sw.Restart();
        var versions = await LoadUsersAsync(db, users, now, ct);
        var usersLoad = sw.Elapsed.TotalSeconds;
        say($"audience: {versions:N0} user versions loaded in {usersLoad:N0} s; building the audience cube");
        // What the service's refresher does at its first tick after a load, timed on its own.
        var cube = await new AudienceCube(db.DataSource, NullLogger<AudienceCube>.Instance).RefreshAsync(ct);
        say($"audience: cube of {cube.Days} days ({cube.Cells:N0} cells) built in {cube.Took.TotalSeconds:N0} s; starting the service");

        await using var service = await ServiceProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
        {
            ["Kafka:BootstrapServers"] = "embedded",
            ["Kafka:RunConsumer"] = "false",
            // The queries alone: the first export of a 10 M-row Gold, which the jobs would start a minute in, is a
            // one-off that would share the cores with them (an earlier run measured it beside the queries).
            ["Jobs:Enabled"] = "false",
            // The cube as the bench built it, and as traffic leaves it between two refreshes (below).
            ["Audience:RefreshSeconds"] = "0",
        }, "/health/ready", ct);
        using var http = new HttpClient { BaseAddress = service.Url, Timeout = TimeSpan.FromMinutes(5) };
        var results = new List<QueryResult>();
        async Task Measure(string name, string path, int? shapeRuns = null, bool targeted = true)
        {
            var n = shapeRuns ?? runs;
            var times = new List<double>();
            var rows = 0;
            for (var i = 0; i < n + 2; i++)
            {
                var q = Stopwatch.StartNew();
                using var r = await http.GetAsync(new Uri(path, UriKind.Relative), ct);
                var body = await r.Content.ReadAsStringAsync(ct);
                r.EnsureSuccessStatusCode();
                if (i < 2) continue; // warm-up: plans and pages cached like a dashboard refreshing
                times.Add(q.Elapsed.TotalMilliseconds);
                rows = body.Split("\"impressions\"", StringSplitOptions.None).Length - 1;
            }

            times.Sort();
            results.Add(new QueryResult(name, path, n, Samples.Percentile(times, 0.5), Samples.Percentile(times, 0.95), rows, targeted));
            say($"audience: {name}: p50 {results[^1].P50Ms:N1} ms, p95 {results[^1].P95Ms:N1} ms ({rows} groups)");
        }

        var queries = Queries(now);
        foreach (var (name, path) in queries) await Measure(name, path);

        // Live traffic between two refreshes: Gold rows of the current hour change (a click, a conversion), so that hour
        // is read from Gold and the rest of the day from the cube and its facts.
        await db.ExecAsync("""
            UPDATE ad_performance_state SET change_seq = nextval('ad_performance_state_change_seq')
            WHERE impression_id IN (SELECT impression_id FROM ad_performance_state WHERE impression_time >= now() - interval '20 minutes' LIMIT 500)
            """, ct);
        foreach (var (name, path) in queries.Where(q => q.Name.EndsWith("last 24 h", StringComparison.Ordinal)))
            await Measure($"{name}, the current hour changed since the refresh", path);

        // The uncovered grouping over every impression: what a long range costs when read row by row (few runs: each
        // reads 10 M rows).
        string T(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        await Measure("age_band × gender × segment × interest, 30 days (every impression)",
            $"/api/v1/audience?group_by=age_band,gender,segment,interest&from={T(now.AddDays(-31))}&to={T(now.AddDays(1))}", 5, targeted: false);

        return new AudienceResult(impressions, users, versions, goldLoad, usersLoad, cube, results);
    }

    /// <summary>Profiles in bands, as the traffic generator makes them; indexes rebuilt after the load, as for Gold.</summary>
    private static async Task<long> LoadUsersAsync(BenchDatabase db, int users, DateTime now, CancellationToken ct)
    {
        var random = new Random(11);
        var from = now.AddDays(-40);
        var middle = now.AddDays(-15);
        var end = new DateTime(9999, 12, 31, 0, 0, 0, DateTimeKind.Utc);
        long key = 0;
        await using (var conn = await db.DataSource.OpenConnectionAsync(ct))
        {
            await using var copy = await conn.BeginBinaryImportAsync("""
                COPY dim_users (user_key, user_id, age_band, gender, country, interests, segment, start_ts, end_ts, is_current, merge_seq)
                FROM STDIN (FORMAT BINARY)
                """, ct);
            async Task Row(string userId, DateTime start, DateTime stop, int age)
            {
                await copy.StartRowAsync(ct);
                await copy.WriteAsync(++key, NpgsqlDbType.Bigint, ct);
                await copy.WriteAsync(userId, NpgsqlDbType.Text, ct);
                await copy.WriteAsync(AgeBands[age], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Genders[random.Next(Genders.Length)], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(BenchCountries[random.Next(BenchCountries.Length)], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Interests.Where(_ => random.NextDouble() < 0.25).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
                await copy.WriteAsync(Segments[random.Next(Segments.Length)], NpgsqlDbType.Text, ct);
                await copy.WriteAsync(start, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(stop, NpgsqlDbType.TimestampTz, ct);
                await copy.WriteAsync(stop == end, NpgsqlDbType.Boolean, ct);
                await copy.WriteAsync(1L, NpgsqlDbType.Bigint, ct);
            }

            for (var u = 0; u < users; u++)
            {
                if (random.NextDouble() >= 0.9) continue; // no profile: the audience's "unknown"
                var userId = $"u-{u:D7}";
                var age = random.Next(AgeBands.Length);
                if (random.NextDouble() < 0.1)
                {
                    await Row(userId, from, middle, age);
                    await Row(userId, middle, end, Math.Min(age + 1, AgeBands.Length - 1));
                }
                else
                {
                    await Row(userId, from, end, age);
                }
            }

            await copy.CompleteAsync(ct);
        }

        await db.ExecAsync($"SELECT setval('dim_users_key_seq', {key.ToString(CultureInfo.InvariantCulture)})", ct);
        await db.ExecAsync("VACUUM (ANALYZE) dim_users", ct);
        return key;
    }

    private static readonly string[] BenchCountries = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA"];
}
