namespace Attribution.Api.Observability;

/// <summary>One time series: an instrument with one set of label values.</summary>
internal abstract class MetricSeries(string labels)
{
    /// <summary>Rendered, escaped and sorted <c>name="value"</c> pairs, comma separated; "" when there are none.</summary>
    public string Labels { get; } = labels;

    /// <summary>The scrape generation that last observed this series; only observable instruments use it.</summary>
    public long LastObservedGeneration;

    public abstract void Record(double value);
}

/// <summary>Counter and UpDownCounter: measurements are increments, the exposed value is their running sum.</summary>
internal sealed class SumSeries(string labels) : MetricSeries(labels)
{
    private double _sum;

    public double Value => Volatile.Read(ref _sum);

    public override void Record(double value) => AtomicDouble.Add(ref _sum, value);
}

/// <summary>Gauges and all observable instruments: each measurement is the whole current value.</summary>
internal sealed class LastValueSeries(string labels) : MetricSeries(labels)
{
    private double _value;

    public double Value => Volatile.Read(ref _value);

    public override void Record(double value) => Volatile.Write(ref _value, value);
}

/// <summary>A histogram with fixed bucket bounds; each bucket is counted on its own and made cumulative at scrape time.</summary>
internal sealed class HistogramSeries(string labels, double[] bounds) : MetricSeries(labels)
{
    // One slot per finite upper bound plus the +Inf overflow slot.
    private readonly long[] _counts = new long[bounds.Length + 1];
    private double _sum;

    public double[] Bounds { get; } = bounds;

    public override void Record(double value)
    {
        Interlocked.Increment(ref _counts[BucketIndex(Bounds, value)]);
        AtomicDouble.Add(ref _sum, value);
    }

    /// <summary>The slot a value is counted in: Prometheus' <c>le</c> is inclusive, so a value equal to a bound belongs to that bound.</summary>
    public static int BucketIndex(double[] bounds, double value)
    {
        var index = Array.BinarySearch(bounds, value);
        return index >= 0 ? index : ~index;
    }

    /// <summary>Cumulative counts per bound (last entry is +Inf) and the sum; the count is the +Inf entry by construction.</summary>
    public (long[] Cumulative, double Sum) Snapshot()
    {
        var cumulative = new long[_counts.Length];
        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            cumulative[i] = running;
        }

        return (cumulative, Volatile.Read(ref _sum));
    }
}

/// <summary>Lock-free add on a double: a compare-and-swap loop, so recording never blocks on a lock.</summary>
internal static class AtomicDouble
{
    public static void Add(ref double target, double value)
    {
        var current = Volatile.Read(ref target);
        while (true)
        {
            var seen = Interlocked.CompareExchange(ref target, current + value, current);
            // Compare bit patterns: NaN never equals itself, and a NaN sum must not spin forever.
            if (BitConverter.DoubleToInt64Bits(seen) == BitConverter.DoubleToInt64Bits(current))
            {
                return;
            }

            current = seen;
        }
    }
}
