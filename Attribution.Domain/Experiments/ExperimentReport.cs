namespace Attribution.Domain.Experiments;

/// <summary>What Gold counts for one arm: impressions of the campaign with the arm's creative in [start, end), and
/// how many of them were clicked and converted.</summary>
public sealed record ArmCounts(string CreativeId, long Impressions, long Clicks, long Conversions);

/// <summary>One arm's figures; the tests against the control are null for the control itself.</summary>
public sealed record ArmResult(
    ExperimentArm Arm, long Impressions, long Clicks, long Conversions,
    double? Ctr, Interval? CtrCi, double? Cvr, Interval? CvrCi, ProportionTest? CtrVsControl, ProportionTest? CvrVsControl);

/// <summary>An experiment's verdict: per arm rates with 95 % intervals, each arm against the control, the split's
/// sample-ratio check, and how far the test is from the impressions it needs.</summary>
public sealed record ExperimentReport(
    Experiment Experiment, IReadOnlyList<ArmResult> Arms, SampleRatioCheck SampleRatio, long? RequiredImpressionsPerArm, double? Progress)
{
    /// <summary>CTR = clicks/impressions and CVR = conversions/clicks as for campaigns (design 000 §4.1); the required
    /// impressions are for the experiment's mde on the control's CTR; progress is the smallest arm's share of them.</summary>
    public static ExperimentReport From(Experiment experiment, IEnumerable<ArmCounts> counts)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        var byCreative = counts.ToDictionary(c => c.CreativeId, StringComparer.Ordinal);
        var arms = experiment.Arms.Select(a => byCreative.GetValueOrDefault(a.CreativeId) ?? new ArmCounts(a.CreativeId, 0, 0, 0)).ToList();
        var control = arms[0];
        var results = experiment.Arms.Select((arm, i) =>
        {
            var c = arms[i];
            var isControl = i == 0;
            return new ArmResult(arm, c.Impressions, c.Clicks, c.Conversions,
                Rate(c.Clicks, c.Impressions), ProportionStatistics.Wilson(c.Clicks, c.Impressions),
                Rate(c.Conversions, c.Clicks), ProportionStatistics.Wilson(c.Conversions, c.Clicks),
                isControl ? null : ProportionStatistics.TwoProportion(control.Clicks, control.Impressions, c.Clicks, c.Impressions, experiment.Alpha),
                isControl ? null : ProportionStatistics.TwoProportion(control.Conversions, control.Clicks, c.Conversions, c.Clicks, experiment.Alpha));
        }).ToList();
        var srm = ProportionStatistics.SampleRatio(arms.Select(a => a.Impressions).ToList(), experiment.Arms.Select(a => a.Weight).ToList());
        var required = Rate(control.Clicks, control.Impressions) is { } ctr
            ? ProportionStatistics.RequiredSampleSize(ctr, experiment.Mde, experiment.Alpha)
            : null;
        double? progress = required is { } n ? Math.Min(1.0, arms.Min(a => a.Impressions) / (double)n) : null;
        return new ExperimentReport(experiment, results, srm, required, progress);
    }

    private static double? Rate(long numerator, long denominator) => denominator == 0 ? null : (double)numerator / denominator;
}
