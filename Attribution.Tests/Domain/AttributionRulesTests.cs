using System.Text.Json.Nodes;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Domain;

/// <summary>One test per attribution rule: Given an impression's events, Then its Gold state and audit outcomes.</summary>
public class AttributionRulesTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private static ImpressionFold Given(params JsonObject[] events) =>
        ImpressionAggregate.Fold("imp-1", events.Select(Parse), AttributionPolicy.Default);

    private static AuditReason? OutcomeOf(ImpressionFold fold, string eventId) =>
        fold.Outcomes.Single(o => o.Event.EventId == eventId).Reason;

    [Fact]
    public void Rule1_a_repeated_event_id_changes_nothing()
    {
        var aggregate = new ImpressionAggregate("imp-1");
        Assert.True(aggregate.Record(Parse(Impression("imp-1", "i1", 0 * S))));
        Assert.True(aggregate.Record(Parse(Click("imp-1", "c1", 10 * S))));
        var once = aggregate.Fold(AttributionPolicy.Default);

        Assert.False(aggregate.Record(Parse(Click("imp-1", "c1", 10 * S))));
        Assert.Equal(once.Gold, aggregate.Fold(AttributionPolicy.Default).Gold);
    }

    [Fact]
    public void Rule1_the_first_delivery_of_an_event_id_wins_and_later_ones_are_duplicates()
    {
        var (fresh, dups) = EventDeduplication.Partition(["a", "b", "a", "c", "b"], x => x, stored => stored == "c");
        Assert.Equal(["a", "b"], fresh);
        Assert.Equal(["a", "c", "b"], dups);
    }

    [Fact]
    public void Rule3_the_earliest_impression_is_the_impression_of_record_and_the_others_are_duplicate_impressions()
    {
        var fold = Given(
            Impression("imp-1", "i-late", 5 * S, bid: 9m, campaign: "camp-b"),
            Impression("imp-1", "i-early", 1 * S, bid: 2m, campaign: "camp-a"));

        Assert.Equal("camp-a", fold.Gold.CampaignId);
        Assert.Equal(2m, fold.Gold.Cost);
        Assert.Equal(T0 + 1 * S, fold.Gold.ImpressionTime);
        Assert.Equal(AuditReason.DuplicateImpression, OutcomeOf(fold, "i-late"));
        Assert.Null(OutcomeOf(fold, "i-early"));
    }

    [Fact]
    public void Rule3_impressions_at_the_same_time_are_ordered_by_the_smaller_event_id()
    {
        var fold = Given(Impression("imp-1", "i-b", S, bid: 2m), Impression("imp-1", "i-a", S, bid: 1m));

        Assert.Equal(1m, fold.Gold.Cost);
        Assert.Equal(AuditReason.DuplicateImpression, OutcomeOf(fold, "i-b"));
    }

    [Fact]
    public void Rule4_every_click_counts_and_click_time_is_the_latest_click()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c2", 90 * S), Click("imp-1", "c1", 30 * S));

        Assert.True(fold.Gold.IsClicked);
        Assert.Equal(T0 + 90 * S, fold.Gold.ClickTime);
        Assert.All(fold.Outcomes, o => Assert.True(o.Applied));
    }

    [Fact]
    public void Rule4_a_click_that_arrives_before_its_impression_counts_once_the_impression_is_known()
    {
        var aggregate = new ImpressionAggregate("imp-1");
        aggregate.Record(Parse(Click("imp-1", "c1", 30 * S)));
        var before = aggregate.Fold(AttributionPolicy.Default).Gold;
        Assert.True(before.IsClicked);
        Assert.Null(before.ImpressionTime);

        aggregate.Record(Parse(Impression("imp-1", "i1", 0 * S, bid: 1.25m)));
        var after = aggregate.Fold(AttributionPolicy.Default).Gold;
        Assert.True(after.IsClicked);
        Assert.Equal(T0, after.ImpressionTime);
        Assert.Equal(1.25m, after.Cost);
    }

    [Fact]
    public void Rule5_a_conversion_without_a_prior_click_is_not_attributed()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Conversion("imp-1", "v1", 60 * S, 10m), Click("imp-1", "c1", 120 * S));

        Assert.False(fold.Gold.IsConverted);
        Assert.Equal(0m, fold.Gold.Revenue);
        Assert.Equal(AuditReason.NoPriorClick, OutcomeOf(fold, "v1"));
        Assert.False(fold.Gold.Eligible);
    }

    [Fact]
    public void Rule5_a_conversion_more_than_the_lookback_after_its_click_is_out_of_window()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S), Conversion("imp-1", "v1", S + 8 * Day, 40m));

        Assert.False(fold.Gold.IsConverted);
        Assert.Equal(0m, fold.Gold.Revenue);
        Assert.Equal(40m, fold.Gold.RevenueOutOfWindow);
        Assert.Equal(AuditReason.OutOfWindow, OutcomeOf(fold, "v1"));
        Assert.False(fold.Gold.Eligible);
    }

    [Fact]
    public void Rule5_a_conversion_exactly_the_lookback_after_its_click_is_eligible()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S), Conversion("imp-1", "v1", S + 7 * Day, 40m));

        Assert.True(fold.Gold.IsConverted);
        Assert.Equal(40m, fold.Gold.Revenue);
    }

    [Fact]
    public void Rule5_the_conversion_is_attributed_to_the_latest_click_at_or_before_it()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", 10 * S), Click("imp-1", "c2", 20 * S),
            Conversion("imp-1", "v1", 15 * S, 5m), Click("imp-1", "c3", 30 * S));

        var conversion = fold.Outcomes.Single(o => o.Event.EventId == "v1");
        Assert.Equal("c1", conversion.AttributedClick!.EventId);
        Assert.Equal(5 * S, conversion.ClickToConversion);
    }

    [Fact]
    public void Rule5_a_shorter_configured_lookback_moves_a_conversion_out_of_the_window()
    {
        var events = new[] { Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S), Conversion("imp-1", "v1", S + 2 * Day, 40m) }.Select(Parse).ToList();

        Assert.True(ImpressionAggregate.Fold("imp-1", events, AttributionPolicy.Default).Gold.IsConverted);
        var oneDay = AttributionPolicy.Default with { Lookback = Day };
        Assert.Equal(40m, ImpressionAggregate.Fold("imp-1", events, oneDay).Gold.RevenueOutOfWindow);
    }

    [Fact]
    public void Rule6_only_the_first_eligible_conversion_counts_even_when_it_arrives_last()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S),
            Conversion("imp-1", "v-second", 300 * S, 80m), Conversion("imp-1", "v-first", 100 * S, 20m));

        Assert.True(fold.Gold.IsConverted);
        Assert.Equal(20m, fold.Gold.Revenue);
        Assert.Equal(T0 + 100 * S, fold.Gold.ConversionTime);
        Assert.Equal(AuditReason.ExtraConversion, OutcomeOf(fold, "v-second"));
    }

    [Fact]
    public void Rule6_an_out_of_window_conversion_does_not_block_a_later_eligible_one()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S), Conversion("imp-1", "v-old", S + 8 * Day, 7m),
            Click("imp-1", "c2", 9 * Day), Conversion("imp-1", "v-new", 9 * Day + 60 * S, 11m));

        Assert.Equal(11m, fold.Gold.Revenue);
        Assert.Equal(7m, fold.Gold.RevenueOutOfWindow);
        Assert.True(fold.Gold.Eligible);
    }

    [Fact]
    public void Rule7_a_late_applied_event_marks_the_impression_late_by_its_largest_lateness()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", 10 * S, ingestedAt: 10 * S + TimeSpan.FromHours(2)),
            Conversion("imp-1", "v1", 20 * S, 3m, ingestedAt: 20 * S + TimeSpan.FromHours(3)));

        Assert.True(fold.Gold.IsLate);
        Assert.Equal((long)TimeSpan.FromHours(3).TotalMilliseconds, fold.Gold.LateByMs);
        Assert.True(fold.Gold.IsConverted);
    }

    [Fact]
    public void Rule7_an_event_within_the_late_threshold_is_not_late()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", 10 * S, ingestedAt: 10 * S + TimeSpan.FromMinutes(59)));

        Assert.False(fold.Gold.IsLate);
        Assert.Equal(0, fold.Gold.LateByMs);
    }

    [Fact]
    public void Rule7_a_late_event_that_is_not_applied_does_not_make_the_impression_late()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Conversion("imp-1", "v1", 20 * S, 3m, ingestedAt: 20 * S + TimeSpan.FromHours(3)));

        Assert.False(fold.Gold.IsLate);
    }

    [Fact]
    public void Rule8_an_impression_without_conversions_is_eligible()
    {
        Assert.True(Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", S)).Gold.Eligible);
    }

    [Fact]
    public void Rule8_an_impression_whose_conversions_are_all_ineligible_is_not_eligible()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Conversion("imp-1", "v1", 2 * S, 1m), Click("imp-1", "c1", 3 * S),
            Conversion("imp-1", "v2", 3 * S + 10 * Day, 1m));

        Assert.False(fold.Gold.Eligible);
        Assert.Equal(AuditReason.NoPriorClick, OutcomeOf(fold, "v1"));
        Assert.Equal(AuditReason.OutOfWindow, OutcomeOf(fold, "v2"));
    }

    [Fact]
    public void Rule9_the_derived_outcomes_are_recomputed_when_a_missing_click_arrives()
    {
        var aggregate = new ImpressionAggregate("imp-1");
        aggregate.Record(Parse(Impression("imp-1", "i1", 0 * S)));
        aggregate.Record(Parse(Conversion("imp-1", "v1", 60 * S, 10m)));
        Assert.Equal(AuditReason.NoPriorClick, aggregate.Fold(AttributionPolicy.Default).Outcomes.Single(o => o.Event.EventId == "v1").Reason);

        aggregate.Record(Parse(Click("imp-1", "c1", 30 * S)));
        var fold = aggregate.Fold(AttributionPolicy.Default);
        Assert.True(fold.Outcomes.Single(o => o.Event.EventId == "v1").Applied);
        Assert.Equal(10m, fold.Gold.Revenue);
        Assert.Empty(fold.Audited);
    }

    [Fact]
    public void A_converted_impression_reports_its_attribution_lag()
    {
        var fold = Given(Impression("imp-1", "i1", 0 * S), Click("imp-1", "c1", 10 * S), Conversion("imp-1", "v1", 70 * S, 1m));

        Assert.Equal(70, fold.Gold.AttributionLagSeconds);
    }
}
