using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Pipeline;

/// <summary>Rule 9 through Kafka and PostgreSQL: three copies of the same scenarios, each sent in another order and
/// split across many small batches, end in the same Gold rows and the same audit outcomes.</summary>
public sealed class OrderIndependenceTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan H = TimeSpan.FromHours(1);
    private static readonly TimeSpan D = TimeSpan.FromDays(1);

    /// <summary>Every rule's edge case, with ids prefixed so three copies can share one topic.</summary>
    private static List<JsonObject> Scenarios(string p)
    {
        string I(string s) => $"{p}{s}";
        return
        [
            // converted: impression, click, conversion
            Impression(I("s1"), I("s1-i"), 0 * S, 1.10m), Click(I("s1"), I("s1-c"), 20 * S), Conversion(I("s1"), I("s1-v"), 5 * 60 * S, 30m),
            // view-through only
            Impression(I("s2"), I("s2-i"), 0 * S, 0.90m), Conversion(I("s2"), I("s2-v"), 60 * S, 9m),
            // out of window, then a fresh click and an eligible conversion, then an extra one
            Impression(I("s3"), I("s3-i"), 0 * S, 2m), Click(I("s3"), I("s3-c1"), S), Conversion(I("s3"), I("s3-v1"), 8 * D, 4m),
            Click(I("s3"), I("s3-c2"), 9 * D), Conversion(I("s3"), I("s3-v2"), 9 * D + H, 5m), Conversion(I("s3"), I("s3-v3"), 9 * D + 2 * H, 6m),
            // duplicate impression and a click before its impression
            Click(I("s4"), I("s4-c"), 30 * S), Impression(I("s4"), I("s4-i2"), 10 * S, 3m), Impression(I("s4"), I("s4-i1"), 5 * S, 1m),
            // late but within the window
            Impression(I("s5"), I("s5-i"), 0 * S, 1m), Click(I("s5"), I("s5-c"), 10 * S, ingestedAt: 10 * S + 3 * H),
            Conversion(I("s5"), I("s5-v"), 20 * S, 8m, ingestedAt: 20 * S + 5 * H),
            // postback by click id
            Impression(I("s6"), I("s6-i"), 0 * S, 1.5m), Click(I("s6"), I("s6-c"), 10 * S), Conversion(null, I("s6-v"), 100 * S, 12m, clickId: I("s6-c")),
            // repeated deliveries and an invalid event
            Impression(I("s7"), I("s7-i"), 0 * S, 0.4m), Impression(I("s7"), I("s7-i"), 0 * S, 0.4m), Click(I("s7"), I("s7-c"), S), Click(I("s7"), I("s7-c"), S),
            new JsonObject { ["event_id"] = I("s7-bad"), ["event_type"] = "CONVERSION", ["impression_id"] = I("s7"), ["conversion_value"] = -3 },
        ];
    }

    private static List<string> Unprefixed(IEnumerable<string> rows, string prefix) =>
        rows.Where(r => r.StartsWith(prefix, StringComparison.Ordinal)).Select(r => r[prefix.Length..]).ToList();

    /// <summary>Six clicks of one address on six impressions, at 0, 5, 10, 15, 20 and 70 s, the first three by one user and
    /// the others by another; with at most 3 clicks an address and 2 a user may make in a minute, the burst rules flag
    /// 15 s, 20 s and 70 s (flooding: 4, 5 and 4 in their minute) and 10 s and 70 s (velocity: 3 each).</summary>
    private static List<JsonObject> Bursts(string p, string ip)
    {
        var seconds = new[] { 0, 5, 10, 15, 20, 70 };
        return [.. seconds.SelectMany((s, k) =>
        {
            var click = Click($"{p}b{s}", $"{p}b{s}-c", s * S);
            click["ip_address"] = ip;
            click["user_id"] = k < 3 ? $"{p}u1" : $"{p}u2";
            return new[] { Impression($"{p}b{s}", $"{p}b{s}-i", -H + s * S), click };
        })];
    }

    [Fact]
    public Task The_burst_rules_flag_the_same_clicks_of_other_impressions_whatever_the_order_and_batching() => Seeded.RunAsync(async seed =>
    {
        var a = Bursts("a-", "198.51.100.1");
        var b = Bursts("b-", "198.51.100.2");
        b.Reverse();
        var random = new Random(seed);
        var c = Bursts("c-", "198.51.100.3").OrderBy(_ => random.Next()).ToList();
        var topic = TestKafka.NewTopic(partitions: 1);
        TestKafka.Produce(topic, a.Concat(b).Concat(c).Select(Message));
        var db = TestPostgres.NewDatabase("bursts");
        try
        {
            var settings = EngineHost.Settings(db, topic);
            settings["Kafka:MaxBatchSize"] = "3";
            settings["Fraud:ClicksPerIpPerMinute"] = "3";
            settings["Fraud:ClicksPerUserPerMinute"] = "2";
            await using var engine = await EngineHost.StartAsync(settings);
            await engine.WaitForDrainAsync(36);

            var gold = await Db.GoldSnapshotAsync(engine.DataSource, withLateness: false);
            var audit = await Db.AuditSnapshotAsync(engine.DataSource);
            Assert.Equal(Unprefixed(gold, "a-"), Unprefixed(gold, "b-"));
            Assert.Equal(Unprefixed(gold, "a-"), Unprefixed(gold, "c-"));
            Assert.Equal(["b10-c:FRAUD_SUSPECTED", "b15-c:FRAUD_SUSPECTED", "b20-c:FRAUD_SUSPECTED", "b70-c:FRAUD_SUSPECTED"], Unprefixed(audit, "a-"));
            Assert.Equal(Unprefixed(audit, "a-"), Unprefixed(audit, "b-"));
            Assert.Equal(Unprefixed(audit, "a-"), Unprefixed(audit, "c-"));
            Assert.Equal(3, await Db.CountAsync(engine.DataSource,
                "SELECT count(*) FROM ad_performance_state WHERE impression_id LIKE '%-b70' AND fraud_reasons = 'CLICK_FLOODING,USER_CLICK_VELOCITY' AND NOT is_clicked"));
            Assert.Equal(3, await Db.CountAsync(engine.DataSource,
                "SELECT count(*) FROM ad_performance_state WHERE impression_id LIKE '%-b10' AND fraud_reasons = 'USER_CLICK_VELOCITY' AND invalid_click_count = 1"));
            Assert.Equal(12, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM fraud_flagged_events"));
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    });

    [Fact]
    public Task Three_arrival_orders_of_the_same_scenarios_give_the_same_gold_and_audit() => Seeded.RunAsync(async seed =>
    {
        var a = Scenarios("a-");
        var b = Scenarios("b-");
        b.Reverse();
        var random = new Random(seed);
        var c = Scenarios("c-").OrderBy(_ => random.Next()).ToList();
        var topic = TestKafka.NewTopic(partitions: 1);
        TestKafka.Produce(topic, a.Concat(b).Concat(c).Select(Message));
        var db = TestPostgres.NewDatabase("order");
        try
        {
            var settings = EngineHost.Settings(db, topic);
            settings["Kafka:MaxBatchSize"] = "4";
            await using var engine = await EngineHost.StartAsync(settings);
            await engine.WaitForDrainAsync(3 * a.Select(e => e["event_id"]!.ToString()).Distinct().Count(e => !e.EndsWith("bad", StringComparison.Ordinal)));

            var gold = await Db.GoldSnapshotAsync(engine.DataSource, withLateness: false);
            var audit = await Db.AuditSnapshotAsync(engine.DataSource);
            Assert.Equal(7, Unprefixed(gold, "a-").Count);
            Assert.Equal(Unprefixed(gold, "a-"), Unprefixed(gold, "b-"));
            Assert.Equal(Unprefixed(gold, "a-"), Unprefixed(gold, "c-"));
            Assert.Equal(Unprefixed(audit, "a-"), Unprefixed(audit, "b-"));
            Assert.Equal(Unprefixed(audit, "a-"), Unprefixed(audit, "c-"));
            Assert.Equal(
                ["s2-v:NO_PRIOR_CLICK", "s3-v1:OUT_OF_WINDOW", "s3-v3:EXTRA_CONVERSION", "s4-i2:DUPLICATE_IMPRESSION",
                 "s7-bad:INVALID", "s7-c:DUPLICATE_EVENT", "s7-i:DUPLICATE_EVENT"],
                Unprefixed(audit, "a-"));
            Assert.Equal(0, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM pending_conversions"));
            Assert.Equal(3, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_id LIKE '%s6' AND revenue = 12"));
            Assert.Equal(3, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_id LIKE '%s5' AND is_late AND late_by_ms = 18000000"));
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    });
}
