using System.Text;
using System.Text.Json.Nodes;
using Attribution.Domain.MultiTouch;
using Attribution.Projections.Analytics;
using Attribution.Projections.Config;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Analytics;

/// <summary>For every model, over Gold's real conversions: each conversion's shares sum to 1 and its credits to its
/// revenue, the click Gold credited is always a touchpoint, and credited revenue over campaigns equals Gold's revenue.</summary>
public sealed class MultiTouchConservationTests : IAsyncLifetime
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(20);
    private readonly string _connectionString = TestPostgres.NewDatabase("mta");
    private EngineHost _engine = null!;
    private BatchApplier _applier = null!;
    private MultiTouchReport _report = null!;
    private long _offset;
    private int _run;

    public async Task InitializeAsync()
    {
        _engine = await EngineHost.StartAsync(EngineHost.Settings(_connectionString, "unused"), runConsumer: false);
        _applier = _engine.Services.GetRequiredService<BatchApplier>();
        _report = new MultiTouchReport(_engine.DataSource, _engine.Services.GetRequiredService<AttributionConfigStore>());
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        TestPostgres.Drop(_connectionString);
    }

    /// <summary>One run's events: users who see and click several campaigns at random times over ten days, and convert
    /// (in or out of the 7-day window, sometimes twice) with cents that do not split evenly.</summary>
    private static Gen<List<JsonObject>> Journeys(string ns, TimeSpan origin)
    {
        var hours = Gen.Choose(0, 240).Select(h => origin + TimeSpan.FromHours(h) + TimeSpan.FromTicks(10 * h));
        var one =
            from i in Gen.Choose(0, 7)
            from kind in Gen.Frequency((2, Gen.Constant(0)), (3, Gen.Constant(1)), (2, Gen.Constant(2)))
            from n in Gen.Choose(0, 999)
            from at in hours
            from user in Gen.Choose(0, 2)
            from campaign in Gen.Elements("c0", "c1", "c2")
            from cents in Gen.Choose(1, 99_999)
            select kind switch
            {
                0 => Impression($"{ns}-i{i}", $"{ns}-e{n}", at, bid: 0.01m, campaign: campaign, user: $"{ns}-u{user}"),
                1 => Click($"{ns}-i{i}", $"{ns}-e{n}", at),
                _ => Conversion($"{ns}-i{i}", $"{ns}-e{n}", at, cents / 100m),
            };
        return Gen.Choose(5, 40).SelectMany(n => Gen.ListOf(one, n)).Select(l => l.ToList());
    }

    [Fact]
    public async Task Every_model_conserves_gold_revenue_and_splits_each_conversion_exactly()
    {
        var gen = Gen.Choose(0, int.MaxValue).Select(_ => Interlocked.Increment(ref _run))
            .SelectMany(run => Journeys($"m{run}", TimeSpan.FromDays(60 * run)).Select(events => (run, events)));
        var conversionsSeen = 0;
        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (run, events) = input;
            _applier.ApplyAsync("g", "t", "c", events.Select(e =>
                new KafkaRecord(0, _offset++, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList(), CancellationToken.None).GetAwaiter().GetResult();
            var (from, to) = (T0.AddDays(60 * run), T0.AddDays(60 * run + 12));
            var goldRevenue = Sum("SELECT coalesce(sum(revenue), 0) FROM ad_performance_state WHERE is_converted AND conversion_time >= $1 AND conversion_time < $2", from, to);
            var goldCount = Sum("SELECT count(*) FROM ad_performance_state WHERE is_converted AND conversion_time >= $1 AND conversion_time < $2", from, to);

            var data = _report.LoadAsync(from, to, withOtherPaths: true, CancellationToken.None).GetAwaiter().GetResult();
            Assert.Equal(goldCount, data.Conversions.Count);
            conversionsSeen += data.Conversions.Count;
            var models = MultiTouchModels.RuleBased.Select(m => MultiTouchModels.Create(m, TimeSpan.FromHours(13)))
                .Append(MultiTouchReport.FitDataDriven(data));
            foreach (var model in models)
            {
                var credit = MultiTouchReport.Credit(data, model);
                Assert.Equal(goldRevenue, credit.Campaigns.Sum(c => c.Revenue));
                Assert.Equal(goldCount, credit.Campaigns.Sum(c => c.Conversions));
                foreach (var c in credit.PerConversion)
                {
                    Assert.Equal(1m, c.Credits.Sum(x => x.Share));
                    Assert.Equal(c.Revenue, c.Credits.Sum(x => x.Revenue));
                }

                foreach (var (conversion, perConversion) in data.Conversions.Zip(credit.PerConversion))
                    Assert.Contains(conversion.Conversion.AttributedClick, perConversion.Touchpoints);
            }

            Assert.Equal(goldRevenue, MultiTouchReport.GoldCredit(data).Campaigns.Sum(c => c.Revenue));
        }));

        Assert.True(conversionsSeen > 10, $"the generator should produce conversions, saw {conversionsSeen}");
    }

    private decimal Sum(string sql, DateTime from, DateTime to)
    {
        using var cmd = _engine.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new() { Value = from });
        cmd.Parameters.Add(new() { Value = to });
        return Convert.ToDecimal(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
