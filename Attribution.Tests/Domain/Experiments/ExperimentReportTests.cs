using Attribution.Domain.Experiments;

namespace Attribution.Tests.Domain.Experiments;

public class ExperimentReportTests
{
    private static readonly DateTime Start = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    private static Experiment Test(params (string Creative, double Weight)[] arms) =>
        new("exp-1", "camp-1", arms.Select(a => new ExperimentArm(a.Creative, a.Weight)).ToList(), Start, null, 0.05, 0.10);

    [Fact]
    public void Given_the_worked_example_then_the_treatment_wins_on_ctr_but_not_on_cvr()
    {
        var report = ExperimentReport.From(Test(("cr-a", 1), ("cr-b", 1)),
            [new ArmCounts("cr-b", 10_000, 250, 30), new ArmCounts("cr-a", 10_000, 200, 20)]);

        var (control, treatment) = (report.Arms[0], report.Arms[1]);
        Assert.Equal("cr-a", control.Arm.CreativeId);
        Assert.Null(control.CtrVsControl);
        Assert.Equal(0.02, control.Ctr);
        Assert.Equal(0.1, control.Cvr);
        Assert.Equal(0.025, treatment.Ctr);
        Assert.Equal(0.12, treatment.Cvr);
        Assert.True(treatment.CtrVsControl!.Significant);
        Assert.False(treatment.CvrVsControl!.Significant);
        Assert.Equal(0.08536319974216688, treatment.CvrCi!.Lower, 1e-14);
        Assert.Equal(0.166138107874371, treatment.CvrCi.Upper, 1e-14);
        Assert.False(report.SampleRatio.SrmDetected);
        Assert.Equal(80_682, report.RequiredImpressionsPerArm);
        Assert.Equal(10_000 / 80_682.0, report.Progress!.Value, 1e-12);
    }

    [Fact]
    public void Given_an_arm_without_impressions_then_it_reads_as_zeros_and_the_split_is_a_mismatch()
    {
        var report = ExperimentReport.From(Test(("cr-a", 1), ("cr-b", 1)), [new ArmCounts("cr-a", 5_000, 100, 10)]);

        Assert.Equal(0, report.Arms[1].Impressions);
        Assert.Null(report.Arms[1].Ctr);
        Assert.Null(report.Arms[1].CtrCi);
        Assert.Null(report.Arms[1].CtrVsControl!.Z);
        Assert.True(report.SampleRatio.SrmDetected);
        Assert.Equal(0, report.Progress);
    }

    [Fact]
    public void Given_no_control_clicks_then_the_sample_size_is_unknown()
    {
        var report = ExperimentReport.From(Test(("cr-a", 1), ("cr-b", 1)), [new ArmCounts("cr-a", 50, 0, 0), new ArmCounts("cr-b", 50, 1, 0)]);
        Assert.Null(report.RequiredImpressionsPerArm);
        Assert.Null(report.Progress);
    }

    [Fact]
    public void Given_more_impressions_than_needed_then_progress_stops_at_1()
    {
        var report = ExperimentReport.From(Test(("cr-a", 1), ("cr-b", 1)), [new ArmCounts("cr-a", 200_000, 4_000, 0), new ArmCounts("cr-b", 200_000, 4_000, 0)]);
        Assert.Equal(1.0, report.Progress);
    }
}
