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
    [InlineData("1 12:00", "1 15:00", "", "+1 12:00-1 15:00", "")]
    [InlineData("1 12:20", "1 15:00", "", "+1 12:00-1 15:00", "-1 12:00-1 12:20")]
    [InlineData("1 12:20", "1 15:40", "", "+1 12:00-1 16:00", "-1 12:00-1 12:20,-1 15:40-1 16:00")]
    [InlineData("1 12:20", "1 12:40", "", "", "+1 12:20-1 12:40")]
    [InlineData("1 12:20", "1 13:40", "", "+1 12:00-1 14:00", "-1 12:00-1 12:20,-1 13:40-1 14:00")]
    [InlineData("1 00:00", "3 00:00", "+1 00:00-3 00:00", "", "")]
    [InlineData("1 12:20", "4 01:30", "+2 00:00-4 00:00", "+1 12:00-2 00:00,+4 00:00-4 01:00", "-1 12:00-1 12:20,+4 01:00-4 01:30")]
    [InlineData("1 12:00", "2 11:00", "", "+1 12:00-2 11:00", "")]
    [InlineData("1 20:10", "3 03:50", "+2 00:00-3 00:00", "+1 20:00-2 00:00,+3 00:00-3 04:00", "-1 20:00-1 20:10,-3 03:50-3 04:00")]
    [InlineData("1 03:10", "4 03:06", "+1 00:00-4 00:00", "-1 00:00-1 03:00,+4 00:00-4 03:00", "-1 03:00-1 03:10,+4 03:00-4 03:06")]
    public void A_range_rounds_each_bound_to_the_nearer_day_or_hour_and_corrects_it_from_the_finer_source(
        string from, string to, string days, string hours, string gold)
    {
        DateTime At(string dhm) => new DateTime(2026, 11, int.Parse(dhm[..1], System.Globalization.CultureInfo.InvariantCulture), 0, 0, 0, DateTimeKind.Utc)
            + TimeSpan.Parse(dhm[2..], System.Globalization.CultureInfo.InvariantCulture);
        static string Show(IEnumerable<RangePart> parts) =>
            string.Join(",", parts.Select(p => $"{(p.Subtract ? "-" : "+")}{p.Range.From:d HH:mm}-{p.Range.To:d HH:mm}"));

        var plan = RollupRange.Plan(At(from), At(to));

        Assert.Equal(days, Show(plan.Daily));
        Assert.Equal(hours, Show(plan.Hourly));
        Assert.Equal(gold, Show(plan.Gold));
        Assert.Empty(RollupRange.Plan(At(from), At(to), useDays: false).Daily);
    }

    [Fact]
    public void Whatever_the_bounds_the_parts_add_up_to_exactly_the_range()
    {
        var random = new Random(11);
        for (var i = 0; i < 200; i++)
        {
            var from = T.AddMinutes(random.Next(-5000, 5000));
            var to = from.AddMinutes(random.Next(2) == 0 ? random.Next(1, 6000) : random.Next(1, 40_000));
            DateTime? now = random.Next(3) == 0 ? null : from.AddMinutes(random.Next(-3000, 45_000));
            var plan = RollupRange.Plan(from, to, useDays: random.Next(4) != 0, now, useWeeks: random.Next(3) != 0);

            // Every minute of the neighbourhood (the weeks around the range) is counted once if it lies in [from, to),
            // else not at all.
            foreach (var minute in Enumerable.Range(-16_000, 72_000).Select(m => T.AddMinutes(m + 0.5)))
            {
                var count = plan.Weekly.Concat(plan.Daily).Concat(plan.Hourly).Concat(plan.Gold)
                    .Where(p => p.Range.From <= minute && minute < p.Range.To).Sum(p => p.Subtract ? -1 : 1);
                Assert.Equal(minute >= from && minute < to ? 1 : 0, count);
            }

            // At most half an hour of the past from Gold at each end; what an end rounded up takes away is in the future.
            Assert.All(plan.Gold, p => Assert.True(p.Range.To - p.Range.From <= TimeSpan.FromMinutes(30) || plan.GoldOnly || p.Range.From >= now));
        }
    }

    [Fact]
    public void A_range_ending_now_reads_its_last_day_and_hour_whole_and_takes_away_only_the_future()
    {
        var now = new DateTime(2026, 11, 29, 18, 20, 0, DateTimeKind.Utc);

        var plan = RollupRange.Plan(now.AddDays(-30), now, now: now, useWeeks: false);

        // Nearer boundaries would read 18:00-18:20 from Gold and 00:00-18:00 from the hourly rollup.
        var start = now.AddDays(-30);
        Assert.Equal([RangePart.Add(start.Date.AddDays(1), now.Date.AddDays(1))], plan.Daily);
        Assert.Equal([RangePart.Add(start.Date.AddHours(18), start.Date.AddDays(1)), RangePart.Remove(now.Date.AddHours(19), now.Date.AddDays(1))], plan.Hourly);
        Assert.Equal([RangePart.Remove(start.Date.AddHours(18), start), RangePart.Remove(now, now.Date.AddHours(19))], plan.Gold);
    }

    [Fact]
    public void A_range_of_weeks_reads_whole_weeks_and_corrects_its_ends_from_days()
    {
        var tuesday = new DateTime(2026, 11, 3, 0, 0, 0, DateTimeKind.Utc);

        var plan = RollupRange.Plan(tuesday, tuesday.AddDays(24));

        Assert.Equal([RangePart.Add(tuesday.AddDays(-1), tuesday.AddDays(27))], plan.Weekly);
        Assert.Equal([RangePart.Remove(tuesday.AddDays(-1), tuesday), RangePart.Remove(tuesday.AddDays(24), tuesday.AddDays(27))], plan.Daily);
        Assert.Empty(plan.Hourly);
        Assert.Empty(plan.Gold);
        Assert.Empty(RollupRange.Plan(tuesday, tuesday.AddDays(24), useWeeks: false).Weekly);
    }

    [Fact]
    public void Open_bounds_stay_open_on_the_rollups()
    {
        var plan = RollupRange.Plan(null, T.AddMinutes(30));

        // T is a Sunday: its week ends at the next midnight.
        Assert.Equal([RangePart.Add(null, T.Date.AddDays(1))], plan.Weekly);
        Assert.Equal([RangePart.Remove(T.Date, T.Date.AddDays(1))], plan.Daily);
        Assert.Equal([RangePart.Add(T.Date, T)], plan.Hourly);
        Assert.Equal([RangePart.Add(T, T.AddMinutes(30))], plan.Gold);
    }

    [Theory]
    [InlineData("campaign_id,day", "", "metrics_daily_campaign")]
    [InlineData("campaign_id,geo_country,platform", "", "metrics_daily_geo_platform")]
    [InlineData("geo_country", "campaign_id", "metrics_daily_geo_platform")]
    [InlineData("campaign_id", "platform", "metrics_daily_geo_platform")]
    [InlineData("hour", "creative_id", "metrics_daily")]
    [InlineData("creative_id", "", "metrics_daily")]
    public void A_question_reads_the_smallest_tier_that_keeps_its_dimensions(string groupBy, string filtered, string daily)
    {
        MetricDimensions.TryParse(groupBy, out var dims);
        string[] one = ["x"];
        var filter = new MetricsFilter(
            CampaignIds: filtered == "campaign_id" ? one : null, CreativeIds: filtered == "creative_id" ? one : null,
            Platforms: filtered == "platform" ? one : null);

        Assert.Equal(daily, RollupTiers.Smallest(dims, filter).Daily);
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
