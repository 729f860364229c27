using System.Text.Json.Nodes;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Domain.Fraud;

/// <summary>Given an impression's events with their clients, Then Gold and the audit outcomes under the fraud rules.</summary>
public class FraudFoldTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);
    private const string Browser = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)";

    private static JsonObject From(JsonObject e, string? ip = "198.51.100.20", string? agent = Browser, string? country = null)
    {
        if (ip is not null) e["ip_address"] = ip;
        if (agent is not null) e["user_agent"] = agent;
        if (country is not null) e["geo_country"] = country;
        return e;
    }

    private static ImpressionFold Given(JsonObject[] events, AttributionPolicy? policy = null, Dictionary<string, FraudRule[]>? clickFlags = null) =>
        ImpressionAggregate.Fold("imp-1", events.Select(Parse), policy ?? AttributionPolicy.Default, clickFlags);

    private static EventOutcome Of(ImpressionFold fold, string eventId) => fold.Outcomes.Single(o => o.Event.EventId == eventId);

    [Fact]
    public void Given_a_bot_impression_then_it_is_fraud_suspected_and_its_clicked_conversion_is_not_credited()
    {
        var fold = Given([
            From(Impression("imp-1", "i", 0 * S), agent: "Googlebot/2.1"), From(Click("imp-1", "c", 30 * S)),
            Conversion("imp-1", "v", 300 * S, 40m)]);

        Assert.True(fold.Gold.FraudSuspected);
        Assert.Equal("BOT_USER_AGENT", fold.Gold.FraudReasons);
        Assert.Equal(AuditReason.FraudSuspected, Of(fold, "i").Reason);
        Assert.Equal(AuditReason.FraudSuspected, Of(fold, "v").Reason);
        Assert.Contains("credits no conversion", Of(fold, "v").Detail, StringComparison.Ordinal);
        Assert.False(fold.Gold.IsConverted);
        Assert.Equal(0m, fold.Gold.Revenue);
        // The impression itself was served and paid for: its cost stays in Gold, billing excludes it.
        Assert.Equal(1m, fold.Gold.Cost);
    }

    [Fact]
    public void Given_a_blocklisted_click_after_a_valid_one_then_the_valid_click_is_credited_and_only_it_counts()
    {
        var policy = AttributionPolicy.Default with { Fraud = FraudSettings.Default with { IpBlocklist = [System.Net.IPNetwork.Parse("203.0.113.0/24")] } };
        var fold = Given([
            From(Impression("imp-1", "i", 0 * S)), From(Click("imp-1", "c-ok", 30 * S)), From(Click("imp-1", "c-bad", 60 * S), ip: "203.0.113.9"),
            Conversion("imp-1", "v", 300 * S, 40m)], policy);

        Assert.Equal((1, 1, true), (fold.Gold.ClickCount, fold.Gold.InvalidClickCount, fold.Gold.IsClicked));
        Assert.Equal(T0 + 30 * S, fold.Gold.ClickTime);
        Assert.Equal("c-ok", Of(fold, "v").AttributedClick!.EventId);
        Assert.Equal(AuditReason.FraudSuspected, Of(fold, "c-bad").Reason);
        Assert.Equal("BLOCKLISTED_IP", Of(fold, "c-bad").Detail);
        Assert.False(fold.Gold.FraudSuspected);
        Assert.Equal(40m, fold.Gold.Revenue);
    }

    [Fact]
    public void Given_a_click_from_another_country_then_it_is_a_geo_mismatch_and_no_click()
    {
        var fold = Given([From(Impression("imp-1", "i", 0 * S), country: "US"), From(Click("imp-1", "c", 30 * S), country: "VN")]);

        Assert.Equal((0, 1, false), (fold.Gold.ClickCount, fold.Gold.InvalidClickCount, fold.Gold.IsClicked));
        Assert.Equal("GEO_MISMATCH", fold.Gold.FraudReasons);
    }

    [Fact]
    public void Given_a_conversion_3_seconds_after_its_click_then_it_is_click_injection_and_a_later_one_is_credited()
    {
        var fold = Given([
            From(Impression("imp-1", "i", 0 * S)), From(Click("imp-1", "c", 30 * S)),
            Conversion("imp-1", "v-fast", 33 * S, 10m), Conversion("imp-1", "v-real", 600 * S, 25m)]);

        Assert.Equal(AuditReason.FraudSuspected, Of(fold, "v-fast").Reason);
        Assert.StartsWith("CLICK_TO_CONVERSION_TOO_FAST: 3 s", Of(fold, "v-fast").Detail, StringComparison.Ordinal);
        Assert.Null(Of(fold, "v-real").Reason);
        Assert.Equal(25m, fold.Gold.Revenue);
        Assert.Equal("CLICK_TO_CONVERSION_TOO_FAST", fold.Gold.FraudReasons);
    }

    [Fact]
    public void Given_a_click_the_burst_rules_flagged_then_it_is_no_click_and_names_its_rules()
    {
        var fold = Given([From(Impression("imp-1", "i", 0 * S)), From(Click("imp-1", "c", 30 * S))],
            clickFlags: new() { ["c"] = [FraudRule.UserClickVelocity, FraudRule.ClickFlooding] });

        Assert.Equal((0, 1), (fold.Gold.ClickCount, fold.Gold.InvalidClickCount));
        Assert.Equal("CLICK_FLOODING, USER_CLICK_VELOCITY", Of(fold, "c").Detail);
        Assert.Equal("CLICK_FLOODING,USER_CLICK_VELOCITY", fold.Gold.FraudReasons);
    }

    [Fact]
    public void Given_server_side_events_without_a_client_then_no_rule_judges_them()
    {
        var fold = Given([Impression("imp-1", "i", 0 * S), Click("imp-1", "c", 30 * S), Conversion("imp-1", "v", 32 * S, 10m)]);

        Assert.Equal((1, 0, false, ""), (fold.Gold.ClickCount, fold.Gold.InvalidClickCount, fold.Gold.FraudSuspected, fold.Gold.FraudReasons));
        Assert.Equal(10m, fold.Gold.Revenue);
    }

    [Fact]
    public void The_fraud_outcome_depends_on_the_set_of_events_not_their_order() =>
        Seeded.Check(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(
            (from events in Gen.NonEmptyListOf(
                 from kind in Gen.Elements("i", "c", "v")
                 from second in Gen.Choose(0, 60)
                 from agent in Gen.Elements<string?>(null, Browser, "curl/8", "")
                 from ip in Gen.Elements<string?>(null, "198.51.100.1", "203.0.113.5")
                 from country in Gen.Elements<string?>(null, "US", "DE")
                 select (kind, second, agent, ip, country))
             from seed in Gen.Choose(0, int.MaxValue)
             select (Events: events.Take(10).ToArray(), Seed: seed)).ToArbitrary(),
            input =>
            {
                var policy = AttributionPolicy.Default with { Fraud = FraudSettings.Default with { IpBlocklist = [System.Net.IPNetwork.Parse("203.0.113.0/24")] } };
                var events = input.Events.Select((e, n) => From(e.kind switch
                {
                    "i" => Impression("imp-1", $"e{n}", e.second * S),
                    "c" => Click("imp-1", $"e{n}", e.second * S),
                    _ => Conversion("imp-1", $"e{n}", e.second * S, n + 1m),
                }, e.ip, e.agent, e.country)).Select(Parse).ToList();
                var flags = new Dictionary<string, FraudRule[]> { ["e1"] = [FraudRule.ClickFlooding] };
                var fold = ImpressionAggregate.Fold("imp-1", events, policy, flags);
                var shuffled = ImpressionAggregate.Fold("imp-1", events.OrderBy(_ => new Random(input.Seed).Next()).ToList(), policy, flags);

                Assert.Equal(fold.Gold, shuffled.Gold);
                Assert.Equal(fold.Outcomes.Select(o => (o.Event.EventId, o.Reason, o.Detail)).Order(), shuffled.Outcomes.Select(o => (o.Event.EventId, o.Reason, o.Detail)).Order());
                Assert.Equal(fold.Gold.ClickCount + fold.Gold.InvalidClickCount, events.Count(e => e is AdClicked));
            }));

    [Fact]
    public void Given_a_flagged_click_that_a_conversion_needed_then_the_click_carries_the_revenue_excluded()
    {
        JsonObject[] events = [
            From(Impression("imp-1", "i", 0 * S, bid: 1.25m), country: "US"), From(Click("imp-1", "c", 30 * S), country: "DE"),
            Conversion("imp-1", "v", 300 * S, 25m)];
        var fold = Given(events);

        var flagged = FlaggedEvents.Of(fold, events.Select(Parse), AttributionPolicy.Default);

        // Judged by no rule, the conversion is credited to that click; with the rules it has no click to be credited to.
        Assert.Equal(AuditReason.NoPriorClick, Of(fold, "v").Reason);
        var click = Assert.Single(flagged);
        Assert.Equal(("c", AdEventType.Click, 0m, 25m), (click.EventId, click.Type, click.SpendExcluded, click.RevenueExcluded));
        Assert.Equal([FraudRule.GeoMismatch], click.Rules);
    }

    [Fact]
    public void Given_a_flagged_click_beside_a_valid_one_then_nothing_is_excluded_but_the_flag()
    {
        JsonObject[] events = [
            From(Impression("imp-1", "i", 0 * S), country: "US"), From(Click("imp-1", "c1", 30 * S), country: "US"),
            From(Click("imp-1", "c2", 60 * S), country: "DE"), Conversion("imp-1", "v", 300 * S, 25m)];
        var fold = Given(events);

        var flagged = Assert.Single(FlaggedEvents.Of(fold, events.Select(Parse), AttributionPolicy.Default));

        // The conversion goes to c1 instead of c2: the revenue is credited all the same.
        Assert.Equal(("c2", 0m), (flagged.EventId, flagged.RevenueExcluded));
        Assert.Equal(25m, fold.Gold.Revenue);
    }
}
