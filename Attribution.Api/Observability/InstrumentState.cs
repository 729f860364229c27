using System.Diagnostics.Metrics;

namespace Attribution.Api.Observability;

/// <summary>The System.Diagnostics.Metrics instrument kinds the exporter understands.</summary>
internal enum InstrumentKind
{
    Counter,
    UpDownCounter,
    Gauge,
    Histogram,
    ObservableCounter,
    ObservableUpDownCounter,
    ObservableGauge,
}

/// <summary>What the collector keeps per listened instrument: how it is exposed, and its series.</summary>
internal sealed class InstrumentState
{
    private readonly SeriesTable _series;

    private InstrumentState(Instrument instrument, InstrumentKind kind, int maxSeries)
    {
        Instrument = instrument;
        Kind = kind;
        Type = TypeOf(kind);
        FamilyName = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, Type);
        Help = string.IsNullOrWhiteSpace(instrument.Description) ? null : instrument.Description;
        IsObservable = instrument.IsObservable;

        Func<string, MetricSeries> create = kind switch
        {
            InstrumentKind.Counter or InstrumentKind.UpDownCounter => labels => new SumSeries(labels),
            InstrumentKind.Histogram => CreateHistogram(HistogramBuckets.For(instrument)),
            _ => labels => new LastValueSeries(labels),
        };
        _series = new SeriesTable(create, instrument.Tags, reserveLe: kind == InstrumentKind.Histogram, maxSeries);
    }

    public Instrument Instrument { get; }

    public InstrumentKind Kind { get; }

    public PrometheusMetricType Type { get; }

    public string FamilyName { get; }

    public string? Help { get; }

    public bool IsObservable { get; }

    /// <summary>Set by the collector before each observation round, so stale observable series can be left out.</summary>
    public long CurrentGeneration;

    public IEnumerable<MetricSeries> Series => _series.All;

    /// <summary>A state for instruments the exporter can expose; null for other instrument types.</summary>
    public static InstrumentState? TryCreate(Instrument instrument, int maxSeries)
    {
        var kind = KindOf(instrument);
        return kind is null ? null : new InstrumentState(instrument, kind.Value, maxSeries);
    }

    public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!Accepts(value))
        {
            return;
        }

        var series = _series.Get(tags);
        series.Record(value);
        if (IsObservable)
        {
            series.LastObservedGeneration = Volatile.Read(ref CurrentGeneration);
        }
    }

    private bool Accepts(double value) => Kind switch
    {
        // Design rule "a Prometheus counter never decreases": a negative or NaN increment is dropped, not summed.
        InstrumentKind.Counter => value >= 0,
        // A single NaN would make the sum NaN for the rest of the process's life.
        InstrumentKind.UpDownCounter or InstrumentKind.Histogram => !double.IsNaN(value),
        _ => true,
    };

    private static Func<string, MetricSeries> CreateHistogram(double[] bounds) =>
        labels => new HistogramSeries(labels, bounds);

    private static PrometheusMetricType TypeOf(InstrumentKind kind) => kind switch
    {
        InstrumentKind.Counter or InstrumentKind.ObservableCounter => PrometheusMetricType.Counter,
        InstrumentKind.Histogram => PrometheusMetricType.Histogram,
        _ => PrometheusMetricType.Gauge,
    };

    private static InstrumentKind? KindOf(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return null;
        }

        var definition = type.GetGenericTypeDefinition();
        if (definition == typeof(Counter<>))
        {
            return InstrumentKind.Counter;
        }

        if (definition == typeof(UpDownCounter<>))
        {
            return InstrumentKind.UpDownCounter;
        }

        if (definition == typeof(Gauge<>))
        {
            return InstrumentKind.Gauge;
        }

        if (definition == typeof(Histogram<>))
        {
            return InstrumentKind.Histogram;
        }

        if (definition == typeof(ObservableCounter<>))
        {
            return InstrumentKind.ObservableCounter;
        }

        if (definition == typeof(ObservableUpDownCounter<>))
        {
            return InstrumentKind.ObservableUpDownCounter;
        }

        if (definition == typeof(ObservableGauge<>))
        {
            return InstrumentKind.ObservableGauge;
        }

        return null;
    }
}
