namespace Attribution.Api.Cli;

/// <summary>Every value added while recording, for exact percentiles (a histogram's buckets only bound them).</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];
    private bool _recording = true;

    public void Add(double value)
    {
        lock (_values)
        {
            if (_recording) _values.Add(value);
        }
    }

    /// <summary>Stops recording, or starts afresh with no values.</summary>
    public void Record(bool on)
    {
        lock (_values)
        {
            _recording = on;
            if (on) _values.Clear();
        }
    }

    public List<double> Sorted()
    {
        lock (_values)
        {
            var sorted = new List<double>(_values);
            sorted.Sort();
            return sorted;
        }
    }

    public static double Percentile(List<double> sorted, double p)
    {
        if (sorted.Count == 0) return double.NaN;
        var rank = p * (sorted.Count - 1);
        var lo = (int)Math.Floor(rank);
        var hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }
}
