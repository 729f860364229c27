using Attribution.Domain.Fraud;

namespace Attribution.Tests.Domain.Fraud;

public class AnomalyTests
{
    private static readonly DateTime H0 = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>48 hours of 1,000 impressions with 20, 22, 18, 20, 22, 18, … clicks, then the given last hour.</summary>
    private static List<HourlyCell> Steady(long lastClicks, long lastImpressions = 1_000)
    {
        var cells = Enumerable.Range(0, 48).Select(h => new HourlyCell("camp-1", H0.AddHours(h), 1_000, 20 + (h % 3 - 1) * 2)).ToList();
        cells.Add(new HourlyCell("camp-1", H0.AddHours(48), lastImpressions, lastClicks));
        return cells;
    }

    [Fact]
    public void The_robust_z_of_the_worked_example()
    {
        // Median 20; deviations 0, 2, 2 → MAD 2; (30 − 20) / (1.4826 · 2) = 3.3725.
        var (score, median, mad) = Anomalies.RobustZ(30, [18, 20, 22, 20, 18, 22, 20])!.Value;
        Assert.Equal((20.0, 2.0), (median, mad));
        Assert.Equal(10 / (1.4826 * 2), score, 1e-12);
    }

    [Fact]
    public void Given_a_click_spike_then_its_hour_is_reported_with_its_baseline_and_score()
    {
        var found = Anomalies.Find(Steady(lastClicks: 200), H0.AddHours(48), H0.AddHours(49), threshold: 4);

        Assert.Equal(["clicks", "ctr"], found.Select(a => a.Metric));
        var clicks = found[0];
        Assert.Equal((H0.AddHours(48), 200.0, 20.0, 2.0, 48), (clicks.Hour, clicks.Value, clicks.Baseline.Median, clicks.Baseline.Mad, clicks.Baseline.Hours));
        Assert.Equal(180 / (1.4826 * 2), clicks.Score, 1e-9);
    }

    [Fact]
    public void Given_an_ordinary_hour_or_too_short_a_history_then_nothing_is_reported()
    {
        Assert.Empty(Anomalies.Find(Steady(lastClicks: 22), H0, H0.AddHours(49), threshold: 4));
        // Hour 20 has only 20 hours before it: not scored, however odd.
        var young = Steady(lastClicks: 20);
        young[20] = young[20] with { Clicks = 900 };
        Assert.DoesNotContain(Anomalies.Find(young, H0, H0.AddHours(24), 4), a => a.Hour == H0.AddHours(20));
    }

    [Fact]
    public void Given_a_drop_in_ctr_on_more_impressions_then_the_ctr_is_reported_and_not_the_clicks()
    {
        var found = Anomalies.Find(Steady(lastClicks: 20, lastImpressions: 10_000), H0.AddHours(48), H0.AddHours(49), threshold: 4);
        var only = Assert.Single(found);
        Assert.Equal("ctr", only.Metric);
        Assert.True(only.Score < -4);
    }

    [Fact]
    public void A_constant_baseline_scores_nothing_and_a_mostly_constant_one_uses_the_mean_deviation()
    {
        Assert.Null(Anomalies.RobustZ(5, [3, 3, 3]));
        var (score, _, mad) = Anomalies.RobustZ(7, [3, 3, 3, 5])!.Value;
        Assert.Equal(0, mad);
        Assert.Equal(4 / (1.2533 * 0.5), score, 1e-12);
    }
}
