using Attribution.Tests.Fixtures;
using Attribution.Domain.MultiTouch;
using FsCheck;
using FsCheck.Fluent;
using static Attribution.Tests.Domain.MultiTouch.MultiTouchScenarios;

namespace Attribution.Tests.Domain.MultiTouch;

public class MultiTouchPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    public sealed record Scenario(Conversion Conversion, Touchpoint[] Clicks)
    {
        public override string ToString() =>
            $"{Conversion} clicks=[{string.Join("; ", Clicks.Select(c => $"{c.CampaignId}@{(T - c.ClickTime).TotalHours}h/{c.ImpressionId}"))}]";
    }

    private static readonly Gen<decimal> Revenue = Gen.Frequency(
        (6, from units in Gen.Choose(-1_000_000, 100_000_000)
            from scale in Gen.Choose(0, 8)
            select units / Pow10(scale)),
        (1, Gen.Elements(0m, 0.01m, 1_000_000_000_000_000m, decimal.MaxValue, -decimal.MaxValue, 0.0000000001m, 79_228.162514264337593543950335m)));

    // Few campaigns, impressions and whole hours, so repeated campaigns and equal-time ties are common; up to 10 days
    // back so some clicks fall outside the 7-day window, and a few after the conversion.
    private static readonly Gen<Touchpoint> ClickGen =
        from campaign in Gen.Elements("c1", "c2", "c3", "c4", "c5")
        from hoursBefore in Gen.Frequency((9, Gen.Choose(0, 240)), (1, Gen.Choose(-48, -1)))
        from impression in Gen.Elements("i1", "i2", "i3")
        select new Touchpoint(campaign, T - TimeSpan.FromHours(hoursBefore), impression);

    private static readonly Gen<Scenario> ScenarioGen =
        from count in Gen.Choose(0, 12)
        from clicks in Gen.ArrayOf(ClickGen, count)
        from attributedCampaign in Gen.Elements("c1", "c2", "c6")
        from attributedHours in Gen.Choose(0, 200)
        from revenue in Revenue
        let attributed = new Touchpoint(attributedCampaign, T - TimeSpan.FromHours(attributedHours), "attributed")
        select new Scenario(
            new Conversion("conv", "user", T, revenue, attributed.CampaignId, attributed.ClickTime, attributed.ImpressionId),
            [.. clicks, attributed]);

    private static readonly Gen<IMultiTouchModel> ModelGen = Gen.OneOf(
        Gen.Constant<IMultiTouchModel>(new LastClickModel()),
        Gen.Constant<IMultiTouchModel>(new FirstClickModel()),
        Gen.Constant<IMultiTouchModel>(new LinearModel()),
        Gen.Constant<IMultiTouchModel>(new PositionBasedModel()),
        Gen.Choose(1, 24 * 14).Select(hours => (IMultiTouchModel)new TimeDecayModel(TimeSpan.FromHours(hours))),
        Gen.ListOf(ScenarioGen.Select(s => CampaignPath.FromTouchpoints(s.Clicks, s.Conversion.Revenue > 0)))
            .Select(paths => (IMultiTouchModel)MarkovChainModel.Fit(paths)));

    [Fact]
    public void For_every_model_credited_revenue_over_all_campaigns_equals_the_total_revenue_exactly()
    {
        // Money-like revenues: sums of many of them stay within decimal's 28 digits, so both sides are exact sums.
        var money = ScenarioGen.Where(s => Math.Abs(s.Conversion.Revenue) < 1e12m && s.Conversion.Revenue.Scale <= 8);
        var arbitrary = Gen.Zip(ModelGen, Gen.NonEmptyListOf(money)).ToArbitrary();

        Seeded.Check(Runs, Prop.ForAll(arbitrary, input =>
        {
            var (model, scenarios) = input;
            var credits = scenarios.Select(s => MultiTouchAttribution.Attribute(s.Conversion, s.Clicks, model)).ToList();

            var credited = MultiTouchAttribution.RevenueByCampaign(credits).Values.Sum();
            var total = scenarios.Sum(s => s.Conversion.Revenue);
            return credited == total;
        }));
    }

    [Fact]
    public void For_every_model_each_conversion_has_shares_in_0_1_summing_to_exactly_1_and_revenue_summing_to_its_own()
    {
        var arbitrary = Gen.Zip(ModelGen, ScenarioGen).ToArbitrary();

        Seeded.Check(Runs, Prop.ForAll(arbitrary, input =>
        {
            var (model, scenario) = input;
            var credit = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, model);
            var touched = credit.Touchpoints.Select(t => t.CampaignId).ToHashSet();
            var ids = credit.Credits.Select(c => c.CampaignId).ToList();

            return credit.Credits.Sum(c => c.Share) == 1m
                && credit.Credits.All(c => c.Share > 0m && c.Share <= 1m)
                && credit.Credits.Sum(c => c.Revenue) == scenario.Conversion.Revenue
                && ids.All(touched.Contains)
                && ids.SequenceEqual(ids.Order(StringComparer.Ordinal).Distinct());
        }));
    }

    [Fact]
    public void For_every_model_credited_revenue_is_within_one_money_unit_of_share_times_revenue()
    {
        var arbitrary = Gen.Zip(ModelGen, ScenarioGen.Where(s => Math.Abs(s.Conversion.Revenue) < 1_000_000_000m && s.Conversion.Revenue.Scale <= 6)).ToArbitrary();

        Seeded.Check(Runs, Prop.ForAll(arbitrary, input =>
        {
            var (model, scenario) = input;
            var credit = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, model);

            return credit.Credits.All(c => Math.Abs(c.Revenue - (c.Share * scenario.Conversion.Revenue)) <= 0.000001m);
        }));
    }

    [Fact]
    public void Last_click_gives_everything_to_the_latest_touchpoint_and_first_click_to_the_earliest()
    {
        Seeded.Check(Runs, Prop.ForAll(ScenarioGen.ToArbitrary(), scenario =>
        {
            var last = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, new LastClickModel());
            var first = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, new FirstClickModel());
            // The window and the tie-break (time, then campaign, then impression, ordinal) spelled out here, not taken
            // from the model's own touchpoints or comparer.
            var inWindow = scenario.Clicks
                .Where(c => (c.ClickTime <= T && T - c.ClickTime <= TimeSpan.FromDays(7)) || c == scenario.Conversion.AttributedClick)
                .OrderBy(c => c.ClickTime).ThenBy(c => c.CampaignId, StringComparer.Ordinal).ThenBy(c => c.ImpressionId, StringComparer.Ordinal)
                .ToList();
            var (earliest, latest) = (inWindow[0], inWindow[^1]);

            return last.Credits.Count == 1 && last.Credits[0].CampaignId == latest.CampaignId && last.Credits[0].Share == 1m
                && first.Credits.Count == 1 && first.Credits[0].CampaignId == earliest.CampaignId && first.Credits[0].Share == 1m;
        }));
    }

    [Fact]
    public void Linear_position_based_and_time_decay_match_their_formulas_to_within_one_share_unit()
    {
        const decimal tolerance = 0.000000000002m;
        Seeded.Check(Runs, Prop.ForAll(ScenarioGen.ToArbitrary(), scenario =>
        {
            var touchpoints = MultiTouchAttribution.Touchpoints(scenario.Conversion, scenario.Clicks, TimeSpan.FromDays(7));
            var n = touchpoints.Count;

            var linear = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, new LinearModel());
            var linearOk = linear.Credits.All(c => Math.Abs(c.Share - ((decimal)touchpoints.Count(t => t.CampaignId == c.CampaignId) / n)) <= tolerance);

            var positions = touchpoints.Select((t, i) => (t.CampaignId, Share: n switch
            {
                1 => 1m,
                2 => 0.5m,
                _ => i == 0 || i == n - 1 ? 0.4m : 0.2m / (n - 2),
            }));
            var positionBased = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, new PositionBasedModel());
            var positionOk = positionBased.Credits.All(c => Math.Abs(c.Share - positions.Where(p => p.CampaignId == c.CampaignId).Sum(p => p.Share)) <= tolerance);

            var halfLife = TimeSpan.FromDays(7);
            var decay = touchpoints.Select(t => (t.CampaignId, Weight: Math.Pow(2, -(T - t.ClickTime) / halfLife))).ToList();
            var decayTotal = decay.Sum(d => d.Weight);
            var timeDecay = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, new TimeDecayModel(halfLife));
            var decayOk = timeDecay.Credits.All(c => Math.Abs((double)c.Share - (decay.Where(d => d.CampaignId == c.CampaignId).Sum(d => d.Weight) / decayTotal)) <= 1e-9);

            return linearOk && positionOk && decayOk;
        }));
    }

    [Fact]
    public void The_credit_does_not_depend_on_the_order_the_clicks_arrive_in()
    {
        var arbitrary = Gen.Zip(ModelGen, ScenarioGen.SelectMany(s => Gen.Shuffle(s.Clicks).Select(shuffled => (s, shuffled)))).ToArbitrary();

        Seeded.Check(Runs, Prop.ForAll(arbitrary, input =>
        {
            var (model, (scenario, shuffled)) = input;
            var original = MultiTouchAttribution.Attribute(scenario.Conversion, scenario.Clicks, model);
            var reordered = MultiTouchAttribution.Attribute(scenario.Conversion, shuffled, model);

            return original.Credits.SequenceEqual(reordered.Credits) && original.Touchpoints.SequenceEqual(reordered.Touchpoints);
        }));
    }

    [Fact]
    public void Removal_effects_are_in_0_1_and_the_conversion_probability_is_a_probability()
    {
        var paths = Gen.ListOf(ScenarioGen.Select(s => CampaignPath.FromTouchpoints(s.Clicks, s.Conversion.Revenue > 0)));

        Seeded.Check(Runs, Prop.ForAll(paths.ToArbitrary(), sample =>
        {
            var model = MarkovChainModel.Fit(sample);

            return model.ConversionProbability is >= -1e-12 and <= 1 + 1e-12
                && model.RemovalEffects.Values.All(e => e is >= 0 and <= 1)
                && (sample.Any(p => p.Converted) || model.RemovalEffects.Values.All(e => e == 0));
        }));
    }

    [Fact]
    public void Largest_remainder_splits_exactly_within_one_unit_of_each_quota_and_gives_zero_weights_nothing()
    {
        var weights = Gen.NonEmptyListOf(Gen.Frequency((1, Gen.Constant(0)), (4, Gen.Choose(0, 1000))))
            .Where(ws => ws.Any(w => w > 0))
            .Select(ws => ws.Select(w => (decimal)w).ToArray());
        var arbitrary = Gen.Zip(Gen.Choose(0, int.MaxValue).Select(u => (decimal)u), weights).ToArbitrary();

        Seeded.Check(Runs, Prop.ForAll(arbitrary, input =>
        {
            var (units, ws) = input;
            var parts = LargestRemainder.Allocate(units, ws);
            var total = ws.Sum();

            return parts.Sum() == units
                && parts.Zip(ws).All(p => p.Second != 0 || p.First == 0)
                && parts.Zip(ws).All(p => Math.Abs(p.First - (units * p.Second / total)) < 1m)
                && parts.All(p => p == decimal.Truncate(p) && p >= 0);
        }));
    }

    private static decimal Pow10(int exponent) => exponent == 0 ? 1m : 10m * Pow10(exponent - 1);
}
