using System.Diagnostics.Metrics;

namespace Attribution.Api.Observability;

/// <summary>Upper bucket bounds for histograms: the instrument's advice when it gives some, else a default for its unit.</summary>
internal static class HistogramBuckets
{
    // The bounds ASP.NET Core advises for http.server.request.duration: 5 ms to 10 s.
    public static readonly IReadOnlyList<double> Seconds =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    public static readonly IReadOnlyList<double> Milliseconds =
        [5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    // OpenTelemetry's default explicit bounds, for units that say nothing about scale.
    public static readonly IReadOnlyList<double> Generic =
        [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    public static double[] For(Instrument instrument)
    {
        var advised = Advised(instrument);
        if (advised is not null)
        {
            var usable = Normalize(advised);
            if (usable.Length > 0)
            {
                return usable;
            }
        }

        return DefaultFor(instrument.Unit);
    }

    public static double[] DefaultFor(string? unit) => unit switch
    {
        "s" => [.. Seconds],
        "ms" => [.. Milliseconds],
        _ => [.. Generic],
    };

    /// <summary>Sorted, distinct, finite bounds: +Inf is always the implicit last bucket, and NaN can bound nothing.</summary>
    public static double[] Normalize(IEnumerable<double> bounds) =>
        bounds.Where(double.IsFinite).Distinct().Order().ToArray();

    private static IEnumerable<double>? Advised(Instrument instrument) => instrument switch
    {
        Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
        Histogram<float> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Histogram<long> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Histogram<int> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Histogram<short> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Histogram<byte> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        Histogram<decimal> h => h.Advice?.HistogramBucketBoundaries?.Select(b => (double)b),
        _ => null,
    };
}
