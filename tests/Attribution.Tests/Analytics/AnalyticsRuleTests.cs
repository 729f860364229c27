using Attribution.Domain.Attribution;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Metrics;
using Attribution.Projections.Rollups;

namespace Attribution.Tests.Analytics;

/// <summary>The pure pieces: a Gold row's contribution and delta, the rollup/Gold split of a range, buckets, pacing.</summary>
public class AnalyticsRuleTests
{
    private static readonly DateTime T = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    private static GoldState Row(DateTime? at, string campaign = "c", bool converted = false) =>
        new("i", campaign, "cr", "user", "US", "IOS", converted, converted, at, converted ? at : null,
            converted ? at!.Value.AddMinutes(90).AddTicks(10) : null, 1.5m, converted ? 10m : 0m, true, false, 0, 0m);

    [Fact]
    public void A_row_counts_in_the_hour_of_its_impression_with_its_lag_in_microseconds()
    {
        var (cell, m) = HourlyRollupRule.Contribution(Row(T.AddMinutes(59), converted: true))!.Value;

        Assert.Equal(T, cell.Hour);
        Assert.Equal(new HourlyMeasures(1, 1, 1, 1.5m, 10m, 0m, 90L * 60 * 1_000_000 + 1, 1), m);
        Assert.Null(HourlyRollupRule.Contribution(Row(null)));
    }

    [Fact]
    public void The_delta_of_an_unchanged_row_is_empty_and_a_moved_row_leaves_its_old_cell()
    {
        Assert.Empty(HourlyRollupRule.Delta([Row(T)], [Row(T)]));

        var moved = HourlyRollupRule.Delta([Row(T, "a")], [Row(T.AddHours(-1), "b")]);

        Assert.Equal([(-1L, "a"), (1L, "b")], moved.Select(d => (d.Delta.Impressions, d.Cell.CampaignId!)).OrderBy(x => x.Item1));
    }

    [Theory]
    [InlineData("1 12:00", "1 15:00", "", "1 12:00-1 15:00", "")]
    [InlineData("1 12:20", "1 15:00", "", "1 13:00-1 15:00", "1 12:20-1 13:00")]
    [InlineData("1 12:20", "1 15:40", "", "1 13:00-1 15:00", "1 12:20-1 13:00,1 15:00-1 15:40")]
    [InlineData("1 12:20", "1 12:40", "", "", "1 12:20-1 12:40")]
    [InlineData("1 12:20", "1 13:40", "", "", "1 12:20-1 13:40")]
    [InlineData("1 00:00", "3 00:00", "1 00:00-3 00:00", "", "")]
    [InlineData("1 12:20", "4 01:30", "2 00:00-4 00:00", "1 13:00-2 00:00,4 00:00-4 01:00", "1 12:20-1 13:00,4 01:00-4 01:30")]
    [InlineData("1 12:00", "2 11:00", "", "1 12:00-2 11:00", "")]
    public void A_range_is_whole_days_then_whole_hours_from_the_rollups_and_partial_hours_from_gold(
        string from, string to, string days, string hours, string edges)
    {
        DateTime At(string dhm) => new DateTime(2026, 11, int.Parse(dhm[..1], System.Globalization.CultureInfo.InvariantCulture), 0, 0, 0, DateTimeKind.Utc)
            + TimeSpan.Parse(dhm[2..], System.Globalization.CultureInfo.InvariantCulture);
        static string Show(IEnumerable<TimeRange> ranges) => string.Join(",", ranges.Select(r => $"{r.From:d HH:mm}-{r.To:d HH:mm}"));

        var plan = RollupRange.Plan(At(from), At(to));

        Assert.Equal(days, plan.Daily is { } d ? Show([d]) : "");
        Assert.Equal(hours, Show(plan.Hourly));
        Assert.Equal(edges, Show(plan.GoldEdges));
        Assert.Null(RollupRange.Plan(At(from), At(to), useDays: false).Daily);
    }

    [Fact]
    public void Open_bounds_stay_open_on_the_rollups()
    {
        var plan = RollupRange.Plan(null, T.AddMinutes(30));

        Assert.Equal(new TimeRange(null, T.Date), plan.Daily);
        Assert.Equal([new TimeRange(T.Date, T)], plan.Hourly);
        Assert.Equal([new TimeRange(T, T.AddMinutes(30))], plan.GoldEdges);
    }

    [Fact]
    public void Daily_deltas_sum_the_hourly_ones_and_drop_what_cancels_within_a_day()
    {
        var moved = HourlyRollupRule.Delta([Row(T, "a")], [Row(T.AddHours(-1), "a"), Row(T.AddHours(20), "b") with { ImpressionId = "j" }]);

        var daily = HourlyRollupRule.ByDay(moved);

        Assert.Equal([(T.Date.AddDays(1), "b", 1L)], daily.Select(d => (d.Cell.Hour, d.Cell.CampaignId!, d.Delta.Impressions)));
    }

    [Fact]
    public void Frequencies_fall_in_readable_buckets_and_rates_are_per_bucket()
    {
        Assert.Equal(["0", "1", "5", "6-10", "6-10", "11-20", "21+"], new long[] { 0, 1, 5, 6, 10, 11, 500 }.Select(f => FrequencyBuckets.Of(f).Label));

        var stats = FrequencyBuckets.Summarize([new(7, true, 1), new(8, false, 3), new(1, false, 2)]);

        var bucket = stats.Single(s => s.Bucket.Label == "6-10");
        Assert.Equal((4L, 1L, 0.25), (bucket.Users, bucket.Converters, bucket.ConversionRate!.Value));
        Assert.Null(stats.Single(s => s.Bucket.Label == "21+").ConversionRate);
    }

    [Fact]
    public void Pacing_uses_the_day_for_daily_budgets_and_the_spend_to_date_for_lifetime_ones()
    {
        Assert.Equal(0.5m, BudgetPacing.Pacing("DAILY", 10m, 5m, 100m));
        Assert.Equal(10m, BudgetPacing.Pacing("LIFETIME", 10m, 5m, 100m));
        Assert.Null(BudgetPacing.Pacing("DAILY", 0m, 5m, 5m));
        Assert.Null(BudgetPacing.Pacing("DAILY", null, 5m, 5m));
        Assert.Null(BudgetPacing.Pacing("WEEKLY", 10m, 5m, 5m));
    }
}
