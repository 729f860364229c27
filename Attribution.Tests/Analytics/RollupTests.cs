using System.Text;
using System.Text.Json.Nodes;
using Attribution.Domain.Attribution;
using Attribution.Domain.Metrics;
using Attribution.Projections.Gold;
using Attribution.Projections.Pipeline;
using Attribution.Projections.Rollups;
using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Analytics;

/// <summary>The hourly rollup equals a GROUP BY over Gold after any stream of events, and the metrics query over it
/// equals grouping Gold directly, for any range and any dimensions.</summary>
public sealed class RollupTests : IAsyncLifetime
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(30);
    private readonly string _connectionString = TestPostgres.NewDatabase("rollup");
    private EngineHost _engine = null!;
    private BatchApplier _applier = null!;
    private long _offset;
    private int _run;

    public async Task InitializeAsync()
    {
        _engine = await EngineHost.StartAsync(EngineHost.Settings(_connectionString, "unused"), runConsumer: false);
        _applier = _engine.Services.GetRequiredService<BatchApplier>();
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        TestPostgres.Drop(_connectionString);
    }

    private Task Apply(IEnumerable<JsonObject> events) =>
        _applier.ApplyAsync("g", "t", "c", events.Select(e =>
            new KafkaRecord(0, _offset++, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList(), CancellationToken.None);

    // Instants on, just before and just after hour boundaries, and far enough apart for out-of-window conversions.
    private static readonly TimeSpan[] Instants =
    [
        TimeSpan.Zero, TimeSpan.FromMinutes(30), TimeSpan.FromHours(1) - TimeSpan.FromTicks(10), TimeSpan.FromHours(1),
        TimeSpan.FromMinutes(61), TimeSpan.FromHours(5), TimeSpan.FromHours(25), TimeSpan.FromDays(8.5),
    ];

    /// <summary>Random events over five impressions: impressions that disagree on campaign, time and dimensions (so the
    /// impression of record, and with it the cell, can change), clicks, conversions in and out of the window, repeats.</summary>
    private static Gen<List<List<JsonObject>>> Batches(string ns)
    {
        var impression = Gen.Choose(0, 4).Select(i => $"{ns}-i{i}");
        var at = Gen.Elements(Instants);
        var one =
            from kind in Gen.Frequency((4, Gen.Constant(0)), (3, Gen.Constant(1)), (3, Gen.Constant(2)))
            from id in impression
            from n in Gen.Choose(0, 99)
            from when in at
            from campaign in Gen.Elements("c1", "c2", null)
            from geo in Gen.Elements("US", "DE", null)
            from platform in Gen.Elements("IOS", "WEB")
            from cents in Gen.Choose(0, 50_000)
            select kind switch
            {
                0 => WithDimensions(Impression(id, $"{ns}-e{n}", when, bid: cents / 10_000m, campaign: campaign ?? "", user: "u-" + n % 3), campaign, geo, platform),
                1 => Click(id, $"{ns}-e{n}", when),
                _ => Conversion(id, $"{ns}-e{n}", when, cents / 100m),
            };
        return Gen.Choose(1, 14).SelectMany(n => Gen.ListOf(one, n))
            .SelectMany(events => Gen.Choose(1, 3).Select(parts =>
                events.Select((e, i) => (e, i)).GroupBy(x => x.i % parts).Select(g => g.Select(x => x.e).ToList()).ToList()));
    }

    private static JsonObject WithDimensions(JsonObject e, string? campaign, string? geo, string platform)
    {
        if (campaign is null) e.Remove("campaign_id");
        if (geo is null) e.Remove("geo_country");
        else e["geo_country"] = geo;
        e["platform"] = platform;
        return e;
    }

    /// <summary>Every rollup table, with its time column and the dimensions its cells keep.</summary>
    private static readonly (string Table, string Unit, string[] Keeps)[] Tiers =
    [
        ("metrics_hourly", "hour", ["creative_id", "geo_country", "platform"]),
        ("metrics_daily", "day", ["creative_id", "geo_country", "platform"]),
        ("metrics_hourly_campaign", "hour", []),
        ("metrics_daily_campaign", "day", []),
        ("metrics_hourly_geo_platform", "hour", ["geo_country", "platform"]),
        ("metrics_daily_geo_platform", "day", ["geo_country", "platform"]),
        ("metrics_weekly", "week", ["creative_id", "geo_country", "platform"]),
        ("metrics_weekly_campaign", "week", []),
        ("metrics_weekly_geo_platform", "week", ["geo_country", "platform"]),
    ];

    private Task<List<string>> RollupSnapshot() => Snapshot("metrics_hourly", "hour");

    private Task<List<string>> DailySnapshot() => Snapshot("metrics_daily", "day");

    /// <summary>A rollup table as text, one line per cell, in the shape of <see cref="GroupByGold"/>.</summary>
    private async Task<List<string>> Snapshot(string table, string unit) => await Lines($"""
        SELECT concat_ws('|', ({unit} AT TIME ZONE 'UTC')::text, coalesce(campaign_id, '∅'), coalesce(creative_id, '∅'),
               coalesce(geo_country, '∅'), coalesce(platform, '∅'), impressions, clicks, conversions, trim_scale(cost),
               trim_scale(revenue), trim_scale(revenue_out_of_window), attribution_lag_us, attribution_lag_count)
        FROM {table}
        """);

    /// <summary>An independent GROUP BY over Gold per hour or per day and campaign, and per the dimensions in
    /// <paramref name="keeps"/> (by default all three); the others show as ∅, summed over.</summary>
    private async Task<List<string>> GroupByGold(string unit = "hour", string[]? keeps = null)
    {
        keeps ??= ["creative_id", "geo_country", "platform"];
        string[] optional = ["creative_id", "geo_country", "platform"];
        var columns = string.Join(", ", optional.Select(d => keeps.Contains(d) ? $"coalesce({d}, '∅')" : "'∅'"));
        var groups = string.Concat(keeps.Select(d => ", " + d));
        return await Lines($"""
            SELECT concat_ws('|', (date_trunc('{unit}', impression_time AT TIME ZONE 'UTC'))::text, coalesce(campaign_id, '∅'),
                   {columns}, count(*),
                   sum(CASE WHEN is_clicked THEN 1 ELSE 0 END), sum(CASE WHEN is_converted THEN 1 ELSE 0 END),
                   trim_scale(sum(cost)), trim_scale(sum(revenue)), trim_scale(sum(revenue_out_of_window)),
                   sum(CASE WHEN is_converted THEN round(extract(epoch FROM conversion_time - impression_time) * 1000000) ELSE 0 END),
                   sum(CASE WHEN is_converted AND conversion_time IS NOT NULL THEN 1 ELSE 0 END))
            FROM ad_performance_state
            WHERE impression_time IS NOT NULL
            GROUP BY date_trunc('{unit}', impression_time AT TIME ZONE 'UTC'), campaign_id{groups}
            """);
    }

    private async Task AssertEveryTierEqualsGroupingGoldAsync()
    {
        foreach (var (table, unit, keeps) in Tiers) Assert.Equal(await GroupByGold(unit, keeps), await Snapshot(table, unit));
    }

    private async Task<List<string>> Lines(string sql)
    {
        await using var cmd = _engine.DataSource.CreateCommand(sql);
        var lines = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    [Fact]
    public async Task After_any_stream_of_batches_the_rollup_equals_a_group_by_over_gold()
    {
        var gen = Gen.Choose(0, int.MaxValue).SelectMany(_ => Batches($"r{Interlocked.Increment(ref _run)}"));
        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), batches =>
        {
            foreach (var batch in batches) Apply(batch).GetAwaiter().GetResult();
            AssertEveryTierEqualsGroupingGoldAsync().GetAwaiter().GetResult();
        }));

        Assert.True(await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM metrics_hourly") > 0);
    }

    [Fact]
    public async Task An_impression_whose_impression_of_record_moves_leaves_its_old_cell_and_an_emptied_cell_disappears()
    {
        await Apply([Impression("mv-1", "mv-e1", TimeSpan.FromHours(3), campaign: "c-late")]);
        Assert.Contains(await RollupSnapshot(), l => l.Contains("|c-late|", StringComparison.Ordinal));

        // An earlier impression event of the same impression becomes the impression of record (rule 3).
        await Apply([Impression("mv-1", "mv-e0", TimeSpan.FromHours(1), campaign: "c-early")]);

        var rollup = await RollupSnapshot();
        Assert.DoesNotContain(rollup, l => l.Contains("|c-late|", StringComparison.Ordinal));
        Assert.Equal(await GroupByGold(), rollup);
        Assert.DoesNotContain(await DailySnapshot(), l => l.Contains("|c-late|", StringComparison.Ordinal));
        Assert.Equal(await GroupByGold("day"), await DailySnapshot());
    }

    [Fact]
    public Task Replay_restores_rollups_that_were_corrupted_to_the_group_by_over_gold() => Seeded.RunAsync(async seed =>
    {
        foreach (var batch in Sample(Batches("rb"), seed, 3)) await Apply(batch);
        await Apply(KnownJourneys.Events("rb-"));
        var before = await RollupSnapshot();
        var daysBefore = await DailySnapshot();
        var tiersBefore = await AllTiersAsync();
        // Damage every tier three ways: a cell's counts and money changed, a cell deleted, a cell that Gold never had.
        foreach (var (table, unit, _) in Tiers)
        {
            await using var corrupt = _engine.DataSource.CreateCommand($"""
                UPDATE {table} SET impressions = impressions + 7, revenue = revenue + 1.5
                WHERE ctid = (SELECT ctid FROM {table} ORDER BY {unit} LIMIT 1);
                DELETE FROM {table} WHERE ctid = (SELECT ctid FROM {table} ORDER BY {unit} DESC LIMIT 1);
                INSERT INTO {table} ({unit}, campaign_id, impressions, clicks, conversions, cost, revenue, revenue_out_of_window,
                                     attribution_lag_us, attribution_lag_count)
                VALUES ('2020-01-06T00:00:00Z', 'c-corrupt', 3, 1, 0, 2, 0, 0, 0, 0);
                """);
            await corrupt.ExecuteNonQueryAsync();
        }

        foreach (var (tier, lines) in await AllTiersAsync()) Assert.NotEqual(tiersBefore[tier], lines);

        await _engine.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(null, CancellationToken.None);

        Assert.Equal(before, await RollupSnapshot());
        Assert.Equal(daysBefore, await DailySnapshot());
        Assert.Equal(await GroupByGold(), before);
        Assert.Equal(await GroupByGold("day"), daysBefore);
        Assert.Equal(tiersBefore, await AllTiersAsync());
        await AssertEveryTierEqualsGroupingGoldAsync();
    });

    private async Task<Dictionary<string, List<string>>> AllTiersAsync()
    {
        var tiers = new Dictionary<string, List<string>>();
        foreach (var (table, unit, _) in Tiers) tiers[table] = await Snapshot(table, unit);
        return tiers;
    }

    /// <summary>The events of a few generated streams, drawn from the seed.</summary>
    private static IEnumerable<List<JsonObject>> Sample(Gen<List<List<JsonObject>>> batches, int seed, int streams) =>
        Gen.Sample(batches, 1, Seeded.Rnd(seed), streams).SelectMany(b => b);

    [Fact]
    public Task A_database_upgraded_to_the_weekly_level_has_it_filled_from_the_days_it_already_had() => Seeded.RunAsync(async seed =>
    {
        foreach (var batch in Sample(Batches("wk"), seed, 3)) await Apply(batch);
        // The known journeys make sure there are days to fill the weeks from, whatever the sample holds.
        await Apply(KnownJourneys.Events("wk-"));
        await using (var downgrade = _engine.DataSource.CreateCommand("""
            DROP TABLE metrics_weekly_campaign, metrics_weekly_geo_platform, metrics_weekly;
            DELETE FROM schema_migrations WHERE version = 7
            """))
        {
            await downgrade.ExecuteNonQueryAsync();
        }

        await SchemaMigrator.MigrateAsync(_engine.DataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.True(await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM metrics_weekly_geo_platform") > 0);
        await AssertEveryTierEqualsGroupingGoldAsync();
    });

    [Fact]
    public Task The_metrics_query_equals_grouping_gold_for_any_range_and_dimensions() => Seeded.RunAsync(async seed =>
    {
        foreach (var batch in Sample(Batches("mq"), seed, 12)) await Apply(batch);
        var gold = await GoldRowsAsync();
        var bounds = Instants.Select(i => (DateTime?)T0.Add(i))
            .Concat([null, T0.AddMinutes(-20), T0.AddMinutes(45), T0.AddHours(2), T0.AddHours(25.5), T0.Date, T0.Date.AddDays(1),
                T0.Date.AddDays(3), T0.Date.AddDays(9).AddHours(7), T0.AddMinutes(10), T0.AddHours(3).AddMinutes(50),
                T0.Date.AddHours(2).AddMinutes(5), T0.Date.AddDays(2).AddHours(21).AddMinutes(55)]).ToArray();
        var dimensionSets = new[]
        {
            Array.Empty<string>(), ["campaign_id"], ["hour"], ["campaign_id", "day"], ["day", "platform"], ["geo_country", "creative_id", "hour"],
            ["platform", "campaign_id", "geo_country", "creative_id", "day"], ["campaign_id", "geo_country", "platform"],
            ["geo_country", "day"],
        };
        var random = new Random(seed);
        for (var i = 0; i < 120; i++)
        {
            var (from, to) = (bounds[random.Next(bounds.Length)], bounds[random.Next(bounds.Length)]);
            if (from is not null && to is not null && from >= to) continue;
            var dims = dimensionSets[random.Next(dimensionSets.Length)];
            // Wherever "now" is (a range ending after it rounds its end up), the answer is the same.
            var metrics = new MetricsQueries(_engine.DataSource, new FixedClock(bounds[random.Next(bounds.Length)] ?? T0));
            var filter = random.Next(4) switch
            {
                0 => new MetricsFilter(CampaignIds: ["c1"]),
                1 => new MetricsFilter(Platforms: ["IOS"]),
                _ => new MetricsFilter(),
            };

            var result = await metrics.QueryAsync(new MetricsRequest(from, to, dims, filter), CancellationToken.None);

            var expected = Reference(gold, from, to, dims, filter);
            var actual = result.Rows.ToDictionary(r => Key(dims, r.Dimensions), r => r.Measures);
            // Without dimensions there are no groups, only the totals.
            if (dims.Length > 0) Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), actual.OrderBy(a => a.Key, StringComparer.Ordinal));
            else Assert.Empty(actual);
            Assert.Equal(expected.Values.Aggregate(HourlyMeasures.Zero, (a, b) => a.Plus(b)), result.Totals);
        }
    });

    private sealed class FixedClock(DateTime now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(now);
    }

    /// <summary>Design 000 §4.1 spelled out here over Gold rows, not through <c>HourlyRollupRule</c>: a row with an
    /// impression counts once in the hour of its impression_time; a click when is_clicked, a conversion when
    /// is_converted; its cost, revenue and out-of-window revenue; and, when converted, its lag in microseconds.</summary>
    private static Dictionary<string, HourlyMeasures> Reference(List<GoldState> gold, DateTime? from, DateTime? to, string[] dims, MetricsFilter filter) =>
        gold.Where(g => g.ImpressionTime is { } t && (from is null || t >= from) && (to is null || t < to)
                        && (filter.CampaignIds is null || filter.CampaignIds.Contains(g.CampaignId!))
                        && (filter.Platforms is null || filter.Platforms.Contains(g.Platform!)))
            .GroupBy(g =>
            {
                var t = g.ImpressionTime!.Value;
                var hour = new DateTime(t.Year, t.Month, t.Day, t.Hour, 0, 0, DateTimeKind.Utc);
                return Key(dims, new Dictionary<string, object?>
                {
                    ["campaign_id"] = g.CampaignId, ["creative_id"] = g.CreativeId, ["geo_country"] = g.GeoCountry,
                    ["platform"] = g.Platform, ["hour"] = hour, ["day"] = hour.Date,
                });
            })
            .ToDictionary(g => g.Key, g =>
            {
                var lagged = g.Where(r => r.IsConverted && r.ConversionTime is not null).ToList();
                return new HourlyMeasures(
                    Impressions: g.Count(), Clicks: g.Count(r => r.IsClicked), Conversions: g.Count(r => r.IsConverted),
                    Cost: g.Sum(r => r.Cost), Revenue: g.Sum(r => r.Revenue), RevenueOutOfWindow: g.Sum(r => r.RevenueOutOfWindow),
                    AttributionLagMicros: lagged.Sum(r => (r.ConversionTime!.Value - r.ImpressionTime!.Value).Ticks / 10),
                    AttributionLagCount: lagged.Count);
            });

    private static string Key(string[] dims, IReadOnlyDictionary<string, object?> values) =>
        string.Join("|", dims.Select(d => values[d] switch
        {
            null => "∅",
            DateTime t => t.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            var v => v.ToString(),
        }));

    private async Task<List<GoldState>> GoldRowsAsync()
    {
        await using var cmd = _engine.DataSource.CreateCommand($"SELECT {GoldColumns.Selected} FROM ad_performance_state");
        var rows = new List<GoldState>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(GoldColumns.Read(reader).State);
        return rows;
    }
}
