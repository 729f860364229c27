using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Api.Simulation;
using Attribution.Domain.Fraud;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>The traffic generator through HTTP into campaign metrics, checked against a computation made here. Both
/// tests send the generator's campaigns (camp-01…), so each runs the service on a database and a topic of its own:
/// exact totals hold whichever runs first.</summary>
public sealed class EndToEndTests
{
    private sealed record Expected(long Impressions, long Clicks, long Conversions, decimal Cost, decimal Revenue);

    /// <summary>Last click, 7-day lookback, first conversion only, written independently of the engine.</summary>
    private static Dictionary<string, Expected> Compute(IEnumerable<JsonObject> sent)
    {
        var byImpression = sent.GroupBy(e => e["event_id"]!.ToString()).Select(g => g.First())
            .GroupBy(e => e["impression_id"]!.ToString());
        var totals = new Dictionary<string, Expected>();
        foreach (var imp in byImpression)
        {
            var impression = imp.Where(e => (string)e["event_type"]! == "IMPRESSION").OrderBy(e => (decimal)e["event_timestamp"]!).FirstOrDefault();
            if (impression is null) continue;
            var clicks = imp.Where(e => (string)e["event_type"]! == "CLICK").Select(e => (decimal)e["event_timestamp"]!).ToList();
            var revenue = imp.Where(e => (string)e["event_type"]! == "CONVERSION")
                .OrderBy(e => (decimal)e["event_timestamp"]!)
                .Where(c => clicks.Any(t => t <= (decimal)c["event_timestamp"]! && (decimal)c["event_timestamp"]! - t <= 7 * 86400))
                .Select(c => (decimal?)(decimal)c["conversion_value"]!).FirstOrDefault();
            var campaign = (string)impression["campaign_id"]!;
            var t = totals.GetValueOrDefault(campaign, new Expected(0, 0, 0, 0, 0));
            totals[campaign] = new Expected(t.Impressions + 1, t.Clicks + (clicks.Count > 0 ? 1 : 0), t.Conversions + (revenue is null ? 0 : 1),
                t.Cost + (decimal)impression["bid_price"]!, t.Revenue + (revenue ?? 0));
        }

        return totals;
    }

    [Fact]
    public async Task The_generators_events_for_thousands_of_impressions_produce_the_campaign_metrics_computed_from_them()
    {
        using var api = new ApiFactory();
        var model = new TrafficModel(new TrafficOptions { Seed = 7, ClickRate = 0.2, ConversionRate = 0.3, DuplicateRate = 0.02, MeanConversionDelay = TimeSpan.FromDays(2) });
        var simulator = new TrafficSimulator(api.Client(), model, SendMode.Batch, batchSize: 400) { KeepSentEvents = true };

        var run = await simulator.RunAsync(maxEvents: 5000, eventsPerSecond: null, duration: null, CancellationToken.None);

        Assert.Equal(0, run.Errors);
        var distinct = run.SentEvents.Select(e => e["event_id"]!.ToString()).Distinct().Count();
        var status = await api.WaitForDrainAsync(distinct);
        Assert.Equal(distinct, status.EventsApplied);
        Assert.Equal(0, status.LostMessages);
        var expected = Compute(run.SentEvents);
        Assert.True(expected.Values.Sum(e => e.Impressions) > 3000, "a few thousand impressions");
        Assert.True(expected.Values.Sum(e => e.Conversions) > 50, "enough conversions to compare");

        var metrics = await api.Client().GetFromJsonAsync<JsonElement>("/api/v1/metrics/campaigns");
        var rows = metrics.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("campaign_id").GetString()!);
        Assert.Equal(expected.Keys.Order(), rows.Keys.Order());
        foreach (var (campaign, e) in expected)
        {
            var row = rows[campaign];
            Assert.Equal(e.Impressions, row.GetProperty("impressions").GetInt64());
            Assert.Equal(e.Clicks, row.GetProperty("clicks").GetInt64());
            Assert.Equal(e.Conversions, row.GetProperty("conversions").GetInt64());
            Assert.Equal(e.Cost, row.GetProperty("cost").GetDecimal());
            Assert.Equal(e.Revenue, row.GetProperty("revenue").GetDecimal());
            Assert.Equal((double)e.Clicks / e.Impressions, row.GetProperty("ctr").GetDouble(), 12);
            Assert.Equal((double)(e.Revenue / e.Cost), row.GetProperty("roas").GetDouble(), 12);
        }

        var duplicates = run.SentEvents.Count - distinct;
        var audit = await api.Client().GetFromJsonAsync<JsonElement>("/api/v1/audit?reason=DUPLICATE_EVENT&limit=10000");
        Assert.Equal(duplicates, audit.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task The_generators_fraud_share_shows_in_the_fraud_summary_and_is_never_credited()
    {
        using var api = new ApiFactory();
        var model = new TrafficModel(new TrafficOptions { Seed = 11, Users = 500, FraudShare = 0.2 });
        var simulator = new TrafficSimulator(api.Client(), model, SendMode.Batch, batchSize: 400) { KeepSentEvents = true };

        var run = await simulator.RunAsync(maxEvents: 3000, eventsPerSecond: null, duration: null, CancellationToken.None);

        Assert.Equal(0, run.Errors);
        Assert.All(run.SentEvents, e => Assert.NotNull(e["user_agent"]));
        await api.WaitForDrainAsync(run.SentEvents.Count);
        var times = run.SentEvents.Select(e => DateTimeOffset.FromUnixTimeMilliseconds((long)((double)e["event_timestamp"]!.GetValue<decimal>() * 1000))).ToList();
        var range = $"from={times.Min().AddHours(-1):yyyy-MM-ddTHH:mm:ssZ}&to={times.Max().AddHours(1):yyyy-MM-ddTHH:mm:ssZ}";
        var lines = (await api.Client().GetFromJsonAsync<JsonElement>($"/api/v1/fraud/summary?{range}")).GetProperty("lines").EnumerateArray().ToList();

        var rules = lines.Select(l => l.GetProperty("rule").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "BOT_USER_AGENT", "GEO_MISMATCH", "CLICK_TO_CONVERSION_TOO_FAST" }, rules);
        // Every conversion under 10 s after a click that no other rule flagged (the injected ones, and any quick real
        // one) is flagged, and its impression says so.
        static string Field(JsonObject e, string name) => e[name]!.ToString();
        var byType = run.SentEvents.DistinctBy(e => Field(e, "event_id")).ToLookup(e => Field(e, "event_type"));
        var impressions = byType["IMPRESSION"].ToDictionary(e => Field(e, "impression_id"));
        var browser = new[] { "bot", "headless", "curl", "python-requests" };
        var validClicks = byType["CLICK"]
            .Where(c => !browser.Any(b => Field(c, "user_agent").Contains(b, StringComparison.OrdinalIgnoreCase))
                        && !browser.Any(b => Field(impressions[Field(c, "impression_id")], "user_agent").Contains(b, StringComparison.OrdinalIgnoreCase))
                        && Field(c, "geo_country") == Field(impressions[Field(c, "impression_id")], "geo_country")
                        && !Field(c, "user_id").StartsWith("u-flood-", StringComparison.Ordinal))
            .ToDictionary(c => Field(c, "impression_id"));
        var injected = byType["CONVERSION"].Count(v => validClicks.TryGetValue(Field(v, "impression_id"), out var c)
            && v["event_timestamp"]!.GetValue<decimal>() - c["event_timestamp"]!.GetValue<decimal>() < 10);
        Assert.True(injected > 0, "the share produced injected conversions");
        var flaggedConversions = (await api.Client().GetFromJsonAsync<JsonElement>($"/api/v1/fraud/events?{range}&rule=CLICK_TO_CONVERSION_TOO_FAST&limit=1000"))
            .GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(injected, flaggedConversions.Count);
        foreach (var f in flaggedConversions.Take(20))
        {
            var gold = await api.Client().GetFromJsonAsync<JsonElement>($"/api/v1/impressions/{f.GetProperty("impression_id").GetString()}");
            Assert.Contains("CLICK_TO_CONVERSION_TOO_FAST", gold.GetProperty("fraud_reasons").EnumerateArray().Select(r => r.GetString()));
        }
    }

    [Fact]
    public async Task The_pixel_click_and_postback_path_attributes_conversions_by_click_id()
    {
        using var api = new ApiFactory();
        var model = new TrafficModel(new TrafficOptions { Seed = 8, ClickRate = 0.5, ConversionRate = 0.5, MeanConversionDelay = TimeSpan.FromMinutes(2) });
        var simulator = new TrafficSimulator(api.Client(), model, SendMode.Pixel, concurrency: 4)
        {
            KeepSentEvents = true, ClickSigningKeys = new Attribution.Domain.Tracking.ClickSigningKeys([ApiFactory.ClickSigningKey]),
        };

        var run = await simulator.RunAsync(maxEvents: 300, eventsPerSecond: null, duration: null, CancellationToken.None);

        Assert.Equal(0, run.Errors);
        await api.WaitForDrainAsync(run.SentEvents.Count);
        // A conversion within seconds of its click is click injection (CLICK_TO_CONVERSION_TOO_FAST): the generator's
        // delays are random, so those few are left out here.
        var clickTimes = run.SentEvents.Where(e => (string)e["event_type"]! == "CLICK")
            .GroupBy(e => (string)e["impression_id"]!).ToDictionary(g => g.Key, g => g.Max(e => (decimal)e["event_timestamp"]!));
        var conversions = run.SentEvents.Where(e => (string)e["event_type"]! == "CONVERSION"
            && (decimal)e["event_timestamp"]! - clickTimes[(string)e["impression_id"]!] >= FraudSettings.Default.MinClickToConversionSeconds).ToList();
        Assert.NotEmpty(conversions);
        foreach (var c in conversions.Take(10))
        {
            var imp = await api.Client().GetFromJsonAsync<JsonElement>($"/api/v1/impressions/{c["impression_id"]}");
            Assert.True(imp.GetProperty("is_converted").GetBoolean());
            Assert.Equal((decimal)c["conversion_value"]!, imp.GetProperty("revenue").GetDecimal());
        }
    }
}
