using System.Diagnostics.Metrics;
using Attribution.Api.Observability;

namespace Attribution.Tests.Observability;

public class HistogramBucketTests
{
    private static readonly double[] Bounds = [1, 2, 5];

    [Theory]
    [InlineData(-3, 0)]
    [InlineData(0.5, 0)]
    [InlineData(1, 0)]
    [InlineData(1.000001, 1)]
    [InlineData(2, 1)]
    [InlineData(5, 2)]
    [InlineData(5.1, 3)]
    [InlineData(double.PositiveInfinity, 3)]
    public void A_value_falls_in_the_first_bucket_whose_inclusive_upper_bound_holds_it(double value, int bucket)
    {
        Assert.Equal(bucket, HistogramSeries.BucketIndex(Bounds, value));
    }

    [Fact]
    public void Counts_are_exposed_cumulatively_and_the_count_equals_the_inf_bucket()
    {
        var series = new HistogramSeries("", Bounds);
        foreach (var value in new[] { 0.5, 1, 1.5, 3, 3, 9 })
        {
            series.Record(value);
        }

        var (cumulative, sum) = series.Snapshot();

        Assert.Equal([2L, 3, 5, 6], cumulative);
        Assert.Equal(18, sum);
    }

    [Fact]
    public void Advised_boundaries_win_over_the_unit_default()
    {
        using var meter = new Meter("Test.Buckets." + Guid.NewGuid().ToString("N"));
        var histogram = meter.CreateHistogram<int>("h", "ms", null, null, new InstrumentAdvice<int> { HistogramBucketBoundaries = [10, 50, 100] });

        Assert.Equal([10d, 50, 100], HistogramBuckets.For(histogram));
    }

    [Fact]
    public void Bounds_are_sorted_deduplicated_and_finite_because_inf_is_always_the_implicit_last_bucket()
    {
        Assert.Equal([-1d, 2, 3], HistogramBuckets.Normalize([3, double.NaN, 2, double.PositiveInfinity, 3, -1, double.NegativeInfinity]));
    }

    [Theory]
    [InlineData("s", 0.005, 10)]
    [InlineData("ms", 5, 10000)]
    [InlineData("{item}", 0, 10000)]
    [InlineData(null, 0, 10000)]
    public void Without_advice_the_default_bounds_suit_the_unit(string? unit, double first, double last)
    {
        using var meter = new Meter("Test.Buckets." + Guid.NewGuid().ToString("N"));
        var histogram = meter.CreateHistogram<double>("h", unit);

        var bounds = HistogramBuckets.For(histogram);

        Assert.Equal(first, bounds[0]);
        Assert.Equal(last, bounds[^1]);
        Assert.Equal(bounds.Order(), bounds);
    }

    [Fact]
    public void Advice_that_leaves_no_finite_bound_falls_back_to_the_default()
    {
        using var meter = new Meter("Test.Buckets." + Guid.NewGuid().ToString("N"));
        var histogram = meter.CreateHistogram<double>("h", "s", null, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [double.NaN, double.PositiveInfinity] });

        Assert.Equal(HistogramBuckets.Seconds, HistogramBuckets.For(histogram));
    }
}
