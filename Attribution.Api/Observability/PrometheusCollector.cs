using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attribution.Api.Observability;

/// <summary>
/// Listens to the process's System.Diagnostics.Metrics instruments whose meter name starts with the configured
/// prefix, keeps their values, and renders them in the Prometheus text exposition format 0.0.4.
/// </summary>
public sealed class PrometheusCollector : IDisposable
{
    private const string RuntimeMeterName = "System.Runtime";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentState> _instruments = new();
    private readonly ConcurrentDictionary<string, byte> _reportedConflicts = new(StringComparer.Ordinal);
    private readonly Lock _scrapeLock = new();
    private readonly PrometheusExporterOptions _options;
    private readonly object? _scope;
    private readonly ILogger _logger;
    private long _generation;

    /// <param name="options">Which meters to export and how many series to keep.</param>
    /// <param name="meterScope">
    /// The host's <see cref="IMeterFactory"/>: meters it created are exported, meters of other hosts in the same
    /// process (tests run several) are not. Meters created with <c>new Meter(...)</c> have no scope and are always
    /// exported. Null exports every scope.
    /// </param>
    /// <param name="logger">Where failing observable callbacks and name clashes are reported.</param>
    public PrometheusCollector(PrometheusExporterOptions options, IMeterFactory? meterScope = null, ILogger<PrometheusCollector>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSeriesPerInstrument, 1);
        _options = options;
        _scope = meterScope;
        _logger = logger ?? (ILogger)NullLogger.Instance;

        _listener.InstrumentPublished = OnInstrumentPublished;
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out InstrumentState? _);
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((InstrumentState)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((InstrumentState)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>Runs the observable callbacks and renders every exported family as Prometheus text.</summary>
    public string Collect()
    {
        var builder = new StringBuilder(4096);
        // Scrapes are serialised: observable callbacks and the generation that marks fresh observations must not interleave.
        lock (_scrapeLock)
        {
            Observe();
            Write(builder);
        }

        return builder.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        if (!meter.Name.StartsWith(_options.MeterNamePrefix, StringComparison.Ordinal) &&
            !(_options.ExportRuntimeMetrics && meter.Name == RuntimeMeterName))
        {
            return;
        }

        if (_scope is not null && meter.Scope is not null && !ReferenceEquals(meter.Scope, _scope))
        {
            return;
        }

        var state = InstrumentState.TryCreate(instrument, _options.MaxSeriesPerInstrument);
        if (state is null)
        {
            _logger.LogWarning("Instrument {Meter}/{Instrument} of type {Type} is not exported", meter.Name, instrument.Name, instrument.GetType().Name);
            return;
        }

        _instruments[instrument] = state;
        listener.EnableMeasurementEvents(instrument, state);
    }

    private void Observe()
    {
        var generation = ++_generation;
        foreach (var state in _instruments.Values)
        {
            if (state.IsObservable)
            {
                Volatile.Write(ref state.CurrentGeneration, generation);
            }
        }

        try
        {
            _listener.RecordObservableInstruments();
        }
        catch (AggregateException failure)
        {
            // One broken callback must not take the whole scrape down; the others' values were still recorded.
            _logger.LogWarning(failure, "An observable instrument callback failed during a Prometheus scrape");
        }
    }

    private void Write(StringBuilder output)
    {
        // Ordered output keeps scrapes diffable and tests deterministic.
        var families = _instruments.Values
            .GroupBy(s => s.FamilyName, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);

        var claimedNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in families)
        {
            var members = family
                .OrderBy(s => s.Instrument.Meter.Name, StringComparer.Ordinal)
                .ThenBy(s => s.Instrument.Name, StringComparer.Ordinal)
                .ToList();
            var first = members[0];

            // Design rule "one TYPE per family": instruments that map to one name but disagree on type, or whose
            // sample names (_bucket/_sum/_count) another family already uses, are left out rather than emitted invalid.
            var names = SampleNames(first.FamilyName, first.Type);
            if (names.Any(claimedNames.Contains))
            {
                ReportConflict(first.FamilyName, "its sample names are already used by another metric");
                continue;
            }

            var sameType = members.Where(m => m.Type == first.Type).ToList();
            if (sameType.Count != members.Count)
            {
                ReportConflict(first.FamilyName, "instruments of different types map to this name");
            }

            var series = CollectSeries(sameType);
            if (series.Count == 0)
            {
                continue;
            }

            claimedNames.UnionWith(names);
            WriteFamily(output, first, series);
        }
    }

    private static List<(InstrumentState State, MetricSeries Series)> CollectSeries(List<InstrumentState> members)
    {
        // One sample per label set: a second instrument with the same name and labels would duplicate a series.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var series = new List<(InstrumentState, MetricSeries)>();
        foreach (var state in members)
        {
            var generation = Volatile.Read(ref state.CurrentGeneration);
            foreach (var s in state.Series.OrderBy(s => s.Labels, StringComparer.Ordinal))
            {
                // An observable series its callback did not report this round is gone (e.g. a queue that was removed).
                if (state.IsObservable && s.LastObservedGeneration != generation)
                {
                    continue;
                }

                if (seen.Add(s.Labels))
                {
                    series.Add((state, s));
                }
            }
        }

        return series;
    }

    private static void WriteFamily(StringBuilder output, InstrumentState first, List<(InstrumentState State, MetricSeries Series)> series)
    {
        var name = first.FamilyName;
        if (first.Help is not null)
        {
            output.Append("# HELP ").Append(name).Append(' ').Append(PrometheusText.EscapeHelp(first.Help)).Append('\n');
        }

        output.Append("# TYPE ").Append(name).Append(' ').Append(TypeWord(first.Type)).Append('\n');

        foreach (var (_, s) in series)
        {
            switch (s)
            {
                case SumSeries sum:
                    WriteSample(output, name, s.Labels, null, sum.Value);
                    break;
                case LastValueSeries last:
                    WriteSample(output, name, s.Labels, null, last.Value);
                    break;
                case HistogramSeries histogram:
                    WriteHistogram(output, name, histogram);
                    break;
            }
        }
    }

    private static void WriteHistogram(StringBuilder output, string name, HistogramSeries histogram)
    {
        var (cumulative, sum) = histogram.Snapshot();
        var bucketName = name + "_bucket";
        for (var i = 0; i < histogram.Bounds.Length; i++)
        {
            WriteSample(output, bucketName, histogram.Labels, PrometheusText.FormatDouble(histogram.Bounds[i]), cumulative[i]);
        }

        var count = cumulative[^1];
        WriteSample(output, bucketName, histogram.Labels, "+Inf", count);
        WriteSample(output, name + "_sum", histogram.Labels, null, sum);
        WriteSample(output, name + "_count", histogram.Labels, null, count);
    }

    private static void WriteSample(StringBuilder output, string name, string labels, string? le, double value)
    {
        output.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            output.Append('{').Append(labels);
            if (le is not null)
            {
                output.Append(labels.Length > 0 ? ",le=\"" : "le=\"").Append(le).Append('"');
            }

            output.Append('}');
        }

        output.Append(' ').Append(PrometheusText.FormatDouble(value)).Append('\n');
    }

    private static string[] SampleNames(string name, PrometheusMetricType type) => type == PrometheusMetricType.Histogram
        ? [name, name + "_bucket", name + "_sum", name + "_count"]
        : [name];

    private static string TypeWord(PrometheusMetricType type) => type switch
    {
        PrometheusMetricType.Counter => "counter",
        PrometheusMetricType.Histogram => "histogram",
        _ => "gauge",
    };

    private void ReportConflict(string name, string reason)
    {
        if (_reportedConflicts.TryAdd(name + "|" + reason, 0))
        {
            _logger.LogWarning("Metric {Name} is partly or wholly left out of Prometheus scrapes: {Reason}", name, reason);
        }
    }
}
