using System.Text.Json.Nodes;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Domain;

/// <summary>What-if replays' pure rules: which impressions changed and why, and the per-campaign comparison.</summary>
public class WhatIfTests
{
    private static readonly TimeSpan H = TimeSpan.FromHours(1);
    private static readonly TimeSpan D = TimeSpan.FromDays(1);
    private static readonly AttributionPolicy SevenDays = AttributionPolicy.Default;
    private static readonly AttributionPolicy ThreeDays = AttributionPolicy.Default with { Lookback = 3 * D };

    private static ImpressionFold Fold(AttributionPolicy policy, params JsonObject[] events) =>
        ImpressionAggregate.Fold("imp-1", events.Select(Parse).ToList(), policy);

    [Fact]
    public void A_conversion_four_days_after_its_click_is_credited_live_and_out_of_window_under_a_three_day_lookback()
    {
        // Given an impression clicked at once and converted four days after the click
        JsonObject[] events = [Impression("imp-1", "i", TimeSpan.Zero, 2m), Click("imp-1", "c", H), Conversion("imp-1", "v", H + 4 * D, 30m)];
        var live = Fold(SevenDays, events);

        // When it is folded under a three-day lookback
        var whatIf = Fold(ThreeDays, events);

        // Then its outcome changed, and the conversion says why under each rule set
        Assert.True(WhatIf.OutcomeChanged(live.Gold, whatIf.Gold));
        var changed = WhatIf.Explain(live.Gold, live, SevenDays, whatIf, ThreeDays);
        Assert.Equal("camp-a", changed.CampaignId);
        Assert.Equal("last click, 7 d 0 h lookback, late after 1 h 0 m", changed.LiveRules);
        Assert.Equal("last click, 3 d 0 h lookback, late after 1 h 0 m", changed.WhatIfRules);
        Assert.Equal((true, 30m, 0m), (changed.Live.IsConverted, changed.Live.Revenue, changed.Live.RevenueOutOfWindow));
        Assert.Equal((false, 0m, 30m), (changed.WhatIf.IsConverted, changed.WhatIf.Revenue, changed.WhatIf.RevenueOutOfWindow));
        var change = Assert.Single(changed.Events);
        Assert.Equal(("v", "CONVERSION"), (change.EventId, change.EventType));
        Assert.Equal(new EventVerdict("applied", false, "credited to click c 4 d 0 h earlier"), change.Live);
        Assert.Equal(new EventVerdict("OUT_OF_WINDOW", false, "4 d 0 h after the last click, beyond the 3 d 0 h window"), change.WhatIf);
    }

    [Fact]
    public void A_shorter_lookback_moves_the_credit_to_a_later_conversion_of_a_later_click()
    {
        // Given a conversion four days after the first click, and another an hour after a second click
        JsonObject[] events =
        [
            Impression("imp-1", "i", TimeSpan.Zero), Click("imp-1", "c1", TimeSpan.Zero), Conversion("imp-1", "v1", 4 * D, 10m),
            Click("imp-1", "c2", 4 * D + H), Conversion("imp-1", "v2", 4 * D + 2 * H, 25m),
        ];

        // When folded under seven and under three days
        var live = Fold(SevenDays, events);
        var whatIf = Fold(ThreeDays, events);

        // Then the credit moves from the first conversion to the second
        var changed = WhatIf.Explain(live.Gold, live, SevenDays, whatIf, ThreeDays);
        Assert.Equal((10m, 0m, T0 + 4 * D), (changed.Live.Revenue, changed.Live.RevenueOutOfWindow, changed.Live.ConversionTime));
        Assert.Equal((25m, 10m, T0 + 4 * D + 2 * H), (changed.WhatIf.Revenue, changed.WhatIf.RevenueOutOfWindow, changed.WhatIf.ConversionTime));
        Assert.Equal(["v1:applied→OUT_OF_WINDOW", "v2:EXTRA_CONVERSION→applied"],
            changed.Events.Select(e => $"{e.EventId}:{e.Live.Outcome}→{e.WhatIf.Outcome}"));
    }

    [Fact]
    public void A_lower_late_threshold_makes_an_impression_late_without_changing_its_revenue()
    {
        // Given a click that reached us 30 minutes after it happened
        JsonObject[] events = [Impression("imp-1", "i", TimeSpan.Zero), Click("imp-1", "c", H, ingestedAt: H + TimeSpan.FromMinutes(30))];
        var tenMinutes = SevenDays with { LateThreshold = TimeSpan.FromMinutes(10) };

        // When the late threshold drops from an hour to ten minutes
        var live = Fold(SevenDays, events);
        var whatIf = Fold(tenMinutes, events);

        // Then only the lateness changed, and the click is the event that says so
        Assert.True(WhatIf.OutcomeChanged(live.Gold, whatIf.Gold));
        var changed = WhatIf.Explain(live.Gold, live, SevenDays, whatIf, tenMinutes);
        Assert.Equal((false, true, 1_800_000L), (changed.Live.IsLate, changed.WhatIf.IsLate, changed.WhatIf.LateByMs));
        var click = Assert.Single(changed.Events);
        Assert.Equal(("c", false, true), (click.EventId, click.Live.Late, click.WhatIf.Late));
    }

    [Fact]
    public void A_conversion_out_of_both_windows_is_no_change_even_though_its_sentence_names_the_other_window()
    {
        JsonObject[] events = [Impression("imp-1", "i", TimeSpan.Zero), Click("imp-1", "c", TimeSpan.Zero), Conversion("imp-1", "v", 9 * D, 5m)];
        var live = Fold(SevenDays, events);
        var whatIf = Fold(ThreeDays, events);

        Assert.False(WhatIf.OutcomeChanged(live.Gold, whatIf.Gold));
        Assert.Empty(WhatIf.Explain(live.Gold, live, SevenDays, whatIf, ThreeDays).Events);
    }

    [Fact]
    public void An_impression_live_gold_does_not_hold_changed_only_when_the_what_if_attributes_something()
    {
        var converted = Fold(SevenDays, Impression("imp-1", "i", TimeSpan.Zero), Click("imp-1", "c", H), Conversion("imp-1", "v", 2 * H, 3m));
        var seenOnly = Fold(SevenDays, Impression("imp-1", "i", TimeSpan.Zero));

        Assert.True(WhatIf.OutcomeChanged(null, converted.Gold));
        Assert.False(WhatIf.OutcomeChanged(null, seenOnly.Gold));
    }

    [Fact]
    public void Each_campaign_of_either_side_is_compared_with_the_delta_what_if_minus_live_and_roas_as_the_metrics_define_it()
    {
        // Given campaign a on both sides, b only live, and the campaign-less impressions only in the what-if
        var live = new (string?, CampaignTotals)[] { ("a", new(4, 100m, 0m, 20m)), ("b", new(1, 5m, 0m, 0m)) };
        var whatIf = new (string?, CampaignTotals)[] { ("a", new(3, 70m, 30m, 20m)), (null, new(0, 0m, 0m, 1m)) };

        // When compared
        var rows = WhatIf.Compare(live, whatIf);

        // Then the campaigns come in id order, no campaign first, each absent side zero, ROAS null without cost
        Assert.Equal([null, "a", "b"], rows.Select(r => r.CampaignId));
        var a = rows[1];
        Assert.Equal(new CampaignFigures(4, 100m, 0m, 5.0), a.Live);
        Assert.Equal(new CampaignFigures(3, 70m, 30m, 3.5), a.WhatIf);
        Assert.Equal(new CampaignFigures(-1, -30m, 30m, -1.5), a.Delta);
        Assert.Equal(new CampaignFigures(0, 0m, 0m, 0.0), rows[0].WhatIf);
        Assert.Equal(new CampaignFigures(0, 0m, 0m, null), rows[0].Live);
        Assert.Null(rows[0].Delta.Roas);
        Assert.Equal(new CampaignFigures(-1, -5m, 0m, null), rows[2].Delta);
    }

    [Fact]
    public void The_policy_bounds_refuse_a_zero_negative_or_absurd_lookback_and_a_negative_late_threshold()
    {
        Assert.Null(AttributionPolicy.Check(null, null));
        Assert.Null(AttributionPolicy.Check(0.5, 0));
        Assert.Equal("lookback_days must be in (0, 366], got 0", AttributionPolicy.Check(0, null));
        Assert.Equal("lookback_days must be in (0, 366], got -1", AttributionPolicy.Check(-1, null));
        Assert.Equal("lookback_days must be in (0, 366], got 10000", AttributionPolicy.Check(10_000, null));
        Assert.Equal("late_threshold_minutes must be in [0, 525600], got -5", AttributionPolicy.Check(null, -5));
    }

    // ----- properties

    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    /// <summary>One impression's events: clicks and conversions at a few instants days apart, some of them late.</summary>
    private static Gen<List<AdEvent>> Events()
    {
        var instant = Gen.Elements(0, 1, 3600, 86_400, 2 * 86_400, 4 * 86_400, 6 * 86_400, 9 * 86_400).Select(s => TimeSpan.FromSeconds(s));
        var late = Gen.Elements(0, 20, 90).Select(m => TimeSpan.FromMinutes(m));
        var one =
            from kind in Gen.Elements(1, 2, 2)
            from at in instant
            from delay in late
            from value in Gen.Choose(1, 500)
            select (Func<int, JsonObject>)(n => kind == 1
                ? Click("imp-1", $"e{n:D2}", at, at + delay)
                : Conversion("imp-1", $"e{n:D2}", at, value, at + delay));
        return Gen.Choose(0, 8).SelectMany(n => Gen.ListOf(one, n)).Select(list =>
            list.Select((make, n) => Parse(make(n))).Prepend(Parse(Impression("imp-1", "imp", TimeSpan.Zero, 1m))).ToList());
    }

    private static Gen<AttributionPolicy> Policies() =>
        from days in Gen.Choose(1, 10)
        from minutes in Gen.Elements(0, 10, 60)
        select new AttributionPolicy(TimeSpan.FromDays(days), TimeSpan.FromMinutes(minutes));

    [Fact]
    public void Identical_rules_change_no_impression_and_no_event() =>
        Seeded.Check(Runs, Prop.ForAll((from events in Events() from policy in Policies() select (events, policy)).ToArbitrary(), x =>
        {
            var fold = ImpressionAggregate.Fold("imp-1", x.events, x.policy);
            var again = ImpressionAggregate.Fold("imp-1", x.events, x.policy);
            return !WhatIf.OutcomeChanged(fold.Gold, again.Gold) && WhatIf.Explain(fold.Gold, fold, x.policy, again, x.policy).Events.Count == 0;
        }));

    [Fact]
    public void A_shorter_lookback_never_converts_an_impression_a_longer_one_does_not() =>
        Seeded.Check(Runs, Prop.ForAll((from events in Events() from a in Policies() from b in Policies() select (events, a, b)).ToArbitrary(), x =>
        {
            var (shorter, longer) = x.a.Lookback <= x.b.Lookback ? (x.a, x.b) : (x.b, x.a);
            return !ImpressionAggregate.Fold("imp-1", x.events, shorter).Gold.IsConverted
                   || ImpressionAggregate.Fold("imp-1", x.events, longer with { LateThreshold = shorter.LateThreshold }).Gold.IsConverted;
        }));

    [Fact]
    public void Every_delta_is_what_if_minus_live_and_every_campaign_appears_once() =>
        Seeded.Check(Runs, Prop.ForAll(Totals().ToArbitrary(), Totals().ToArbitrary(), (live, whatIf) =>
        {
            var rows = WhatIf.Compare(live, whatIf);
            var campaigns = live.Select(l => l.CampaignId).Concat(whatIf.Select(w => w.CampaignId)).Distinct().Count();
            return rows.Count == campaigns && rows.All(r =>
                r.Delta.Conversions == r.WhatIf.Conversions - r.Live.Conversions
                && r.Delta.Revenue == r.WhatIf.Revenue - r.Live.Revenue
                && r.Delta.RevenueOutOfWindow == r.WhatIf.RevenueOutOfWindow - r.Live.RevenueOutOfWindow
                && r.Delta.Roas == (r.Live.Roas is { } l && r.WhatIf.Roas is { } w ? w - l : null));
        }));

    private static Gen<List<(string? CampaignId, CampaignTotals Totals)>> Totals() =>
        Gen.ListOf(
            from campaign in Gen.Elements<string?>(null, "a", "b", "c")
            from conversions in Gen.Choose(0, 50)
            from revenue in Gen.Choose(0, 1_000_000)
            from outOfWindow in Gen.Choose(0, 1_000_000)
            from cost in Gen.Choose(0, 100_000)
            select (campaign, new CampaignTotals(conversions, revenue / 1000m, outOfWindow / 1000m, cost / 1000m)))
        .Select(list => list.ToList());
}
