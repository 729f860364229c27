using Attribution.Domain.Experiments;

namespace Attribution.Tests.Domain.Experiments;

/// <summary>The worked example of docs/EXPERIMENTS.md: control 200 clicks of 10,000 impressions and 20 conversions,
/// treatment 250 clicks of 10,000 and 30 conversions; each expected value is that document's arithmetic.</summary>
public class ProportionStatisticsTests
{
    [Fact]
    public void The_wilson_interval_of_200_clicks_in_10000_impressions()
    {
        var ci = ProportionStatistics.Wilson(200, 10_000)!;
        Assert.Equal(0.01743471167513658, ci.Lower, 1e-14);
        Assert.Equal(0.022933926760712948, ci.Upper, 1e-14);
    }

    [Fact]
    public void The_wilson_interval_stays_inside_0_and_1_and_is_null_without_trials()
    {
        Assert.Null(ProportionStatistics.Wilson(0, 0));
        var none = ProportionStatistics.Wilson(0, 10)!;
        Assert.Equal(0, none.Lower, 1e-15);
        Assert.True(none.Upper is > 0 and < 0.35);
        var all = ProportionStatistics.Wilson(10, 10)!;
        Assert.Equal(1, all.Upper, 1e-15);
    }

    [Fact]
    public void A_ctr_of_2_5_against_2_percent_is_a_25_percent_lift_at_z_2_38()
    {
        var t = ProportionStatistics.TwoProportion(200, 10_000, 250, 10_000, alpha: 0.05);
        Assert.Equal(0.25, t.Lift!.Value, 1e-12);
        Assert.Equal(2.3839951328405053, t.Z!.Value, 1e-12);
        Assert.Equal(0.01712582887219502, t.PValue!.Value, 1e-12);
        Assert.True(t.Significant);
        Assert.False(ProportionStatistics.TwoProportion(200, 10_000, 250, 10_000, alpha: 0.01).Significant);
    }

    [Fact]
    public void A_cvr_of_12_against_10_percent_on_few_clicks_is_not_significant()
    {
        var t = ProportionStatistics.TwoProportion(20, 200, 30, 250, alpha: 0.05);
        Assert.Equal(0.2, t.Lift!.Value, 1e-12);
        Assert.Equal(0.6708203932499366, t.Z!.Value, 1e-12);
        Assert.Equal(0.5023349543605022, t.PValue!.Value, 1e-12);
        Assert.False(t.Significant);
    }

    [Fact]
    public void No_successes_anywhere_gives_no_z_and_no_lift()
    {
        var t = ProportionStatistics.TwoProportion(0, 100, 0, 100, 0.05);
        Assert.Equal(new ProportionTest(null, null, null, false), t);
        Assert.Equal(new ProportionTest(null, null, null, false), ProportionStatistics.TwoProportion(5, 100, 0, 0, 0.05));
    }

    [Fact]
    public void A_10000_to_9500_split_of_an_even_test_is_a_sample_ratio_mismatch()
    {
        var srm = ProportionStatistics.SampleRatio([10_000, 9_500], [1, 1]);
        Assert.Equal(12.820512820512821, srm.ChiSquare, 1e-10);
        Assert.Equal(0.00034283974161114766, srm.PValue!.Value, 1e-14);
        Assert.True(srm.SrmDetected);
        Assert.False(ProportionStatistics.SampleRatio([10_000, 9_900], [1, 1]).SrmDetected);
        Assert.False(ProportionStatistics.SampleRatio([3_000, 1_000], [3, 1]).SrmDetected);
        Assert.Equal(0, ProportionStatistics.SampleRatio([3_000, 1_000], [3, 1]).ChiSquare, 1e-12);
    }

    [Fact]
    public void A_10_percent_lift_on_a_2_percent_ctr_needs_80682_impressions_per_arm()
    {
        Assert.Equal(80_682, ProportionStatistics.RequiredSampleSize(0.02, 0.10, 0.05));
        Assert.Null(ProportionStatistics.RequiredSampleSize(0, 0.10, 0.05));
        Assert.Null(ProportionStatistics.RequiredSampleSize(0.6, 1.0, 0.05));
    }
}
