using Attribution.Domain.MultiTouch;
using static Attribution.Tests.Domain.MultiTouch.MultiTouchScenarios;

namespace Attribution.Tests.Domain.MultiTouch;

public class MultiTouchModelTests
{
    // Given a user who clicked A 6 days, B 3 days and C 1 day before converting for 100, attributed to the C click.
    private static readonly Touchpoint A = Click("A", 6);
    private static readonly Touchpoint B = Click("B", 3);
    private static readonly Touchpoint C = Click("C", 1);
    private static readonly Conversion Converted = ConversionAfter(C);

    [Fact]
    public void Given_a_path_A_B_C_when_attributed_last_click_then_C_gets_everything()
    {
        var credit = MultiTouchAttribution.Attribute(Converted, [A, B, C], new LastClickModel());

        Assert.Equal("last_click", credit.Model);
        var only = Assert.Single(credit.Credits);
        Assert.Equal(new CampaignCredit("C", 1m, 100m), only);
    }

    [Fact]
    public void Given_a_later_click_than_the_attributed_one_when_attributed_last_click_then_the_user_level_latest_click_wins()
    {
        // Impression-level attribution chose B, but the user clicked C after it: user-level last click is C.
        var credit = MultiTouchAttribution.Attribute(ConversionAfter(B), [A, C], new LastClickModel());

        Assert.Equal(1m, credit.ShareOf("C"));
    }

    [Fact]
    public void Given_a_path_A_B_C_when_attributed_first_click_then_A_gets_everything()
    {
        var credit = MultiTouchAttribution.Attribute(Converted, [A, B, C], new FirstClickModel());

        Assert.Equal(new CampaignCredit("A", 1m, 100m), Assert.Single(credit.Credits));
    }

    [Fact]
    public void Given_a_path_A_B_C_when_attributed_linearly_then_each_campaign_gets_a_third_and_the_cents_add_up()
    {
        var credit = MultiTouchAttribution.Attribute(Converted, [A, B, C], new LinearModel(), MultiTouchOptions.Default with { MoneyDecimals = 2 });

        Assert.Equal([0.333333333334m, 0.333333333333m, 0.333333333333m], credit.Credits.Select(c => c.Share));
        Assert.Equal([33.34m, 33.33m, 33.33m], credit.Credits.Select(c => c.Revenue));
    }

    [Fact]
    public void Given_a_campaign_clicked_twice_when_attributed_linearly_then_it_gets_two_touchpoints_worth()
    {
        var credit = MultiTouchAttribution.Attribute(Converted, [A, Click("A", 2), C], new LinearModel());

        Assert.Equal(2m / 3m, credit.ShareOf("A"), 12);
        Assert.Equal(1m / 3m, credit.ShareOf("C"), 12);
    }

    [Fact]
    public void Given_clicks_one_and_two_half_lives_old_when_attributed_by_time_decay_then_weights_halve_with_each_half_life()
    {
        // Ages 0, 7 and 14 days with a 7-day half-life: weights 1, 1/2, 1/4 → shares 4/7, 2/7, 1/7.
        var credit = MultiTouchAttribution.Attribute(
            ConversionAfter(Click("C", 0)),
            [Click("A", 14), Click("B", 7)],
            new TimeDecayModel(TimeSpan.FromDays(7)),
            MultiTouchOptions.Default with { Lookback = TimeSpan.FromDays(14) });

        Assert.Equal(4m / 7m, credit.ShareOf("C"), 11);
        Assert.Equal(2m / 7m, credit.ShareOf("B"), 11);
        Assert.Equal(1m / 7m, credit.ShareOf("A"), 11);
        Assert.Equal(100m, credit.Credits.Sum(c => c.Revenue));
    }

    [Fact]
    public void Given_five_touchpoints_when_attributed_position_based_then_first_and_last_get_40_percent_and_the_middle_shares_20()
    {
        var credit = MultiTouchAttribution.Attribute(
            ConversionAfter(Click("E", 1)),
            [Click("A", 5), Click("B", 4), Click("C", 3), Click("D", 2)],
            new PositionBasedModel());

        Assert.Equal([0.4m, 0.2m / 3, 0.2m / 3, 0.2m / 3, 0.4m], credit.Credits.Select(c => c.Share).ToArray(), new WithinOneShareUnit());
    }

    [Theory]
    [InlineData(1, new[] { "1" })]
    [InlineData(2, new[] { "0.5", "0.5" })]
    public void Given_one_or_two_touchpoints_when_attributed_position_based_then_they_take_all_or_half_each(int count, string[] shares)
    {
        Touchpoint[] clicks = [Click("A", 2), Click("B", 1)];
        var credit = MultiTouchAttribution.Attribute(ConversionAfter(clicks[count - 1]), clicks[..count], new PositionBasedModel());

        Assert.Equal(shares.Select(decimal.Parse), credit.Credits.Select(c => c.Share));
    }

    [Fact]
    public void Given_fitted_paths_when_attributed_data_driven_then_campaigns_share_by_removal_effect()
    {
        // Paths A→conv, B→null, A→B→conv: removal effects are A 3/4 and B 1/2 (worked out in docs/ATTRIBUTION_MODELS.md).
        var model = MarkovChainModel.Fit(
        [
            new CampaignPath(["A"], Converted: true),
            new CampaignPath(["B"], Converted: false),
            new CampaignPath(["A", "B"], Converted: true),
        ]);

        var credit = MultiTouchAttribution.Attribute(ConversionAfter(Click("B", 1)), [Click("A", 2)], model);

        Assert.Equal(2d / 3d, model.ConversionProbability, 12);
        Assert.Equal(0.75, model.RemovalEffects["A"], 12);
        Assert.Equal(0.5, model.RemovalEffects["B"], 12);
        Assert.Equal("data_driven", credit.Model);
        Assert.Equal(0.6m, credit.ShareOf("A"));
        Assert.Equal(0.4m, credit.ShareOf("B"));
        Assert.Equal(60m, credit.RevenueOf("A"));
    }

    [Fact]
    public void Given_a_path_of_campaigns_the_fit_never_saw_when_attributed_data_driven_then_the_split_is_linear()
    {
        var model = MarkovChainModel.Fit([new CampaignPath(["A"], Converted: true)]);

        var credit = MultiTouchAttribution.Attribute(ConversionAfter(Click("Y", 1)), [Click("X", 2)], model);

        Assert.Equal(0.5m, credit.ShareOf("X"));
        Assert.Equal(0.5m, credit.ShareOf("Y"));
    }

    // Largest remainder may put the last share unit (10^-12) on either of equal middle touchpoints.
    private sealed class WithinOneShareUnit : IEqualityComparer<decimal>
    {
        public bool Equals(decimal x, decimal y) => Math.Abs(x - y) <= 0.000000000001m;

        public int GetHashCode(decimal obj) => 0;
    }
}
