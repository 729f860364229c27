using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Attribution.Projections.Observability;

/// <summary>The engine's instruments. The Prometheus endpoint exports every meter named "Attribution*".</summary>
public sealed class PipelineMetrics : IDisposable
{
    public const string MeterName = "Attribution.Pipeline";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<int, long> _lag = new();
    private long _newestAppliedIngestTicks;

    public PipelineMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        EventsReceived = _meter.CreateCounter<long>("attribution.events.received", "{event}", "Events received by the tracking API, by type and endpoint");
        ProduceFailures = _meter.CreateCounter<long>("attribution.kafka.produce.failures", "{event}", "Events Kafka did not acknowledge");
        ProduceLatency = _meter.CreateHistogram("attribution.kafka.produce.duration", "s", "Time until Kafka acknowledged a write",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        EventsApplied = _meter.CreateCounter<long>("attribution.events.applied", "{event}", "Events appended to the event store and folded into Gold");
        Audited = _meter.CreateCounter<long>("attribution.events.audited", "{event}", "Events that did not count, or not in full, by audit reason; each event once, with its outcome when applied");
        LateEvents = _meter.CreateCounter<long>("attribution.events.late", "{event}", "Applied events that arrived later than the late threshold, counted once when applied");
        LostMessages = _meter.CreateCounter<long>("attribution.kafka.lost_messages", "{message}", "Messages the broker dropped before the consumer read them");
        BatchSize = _meter.CreateHistogram("attribution.pipeline.batch.size", "{message}", "Messages per applied batch",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000] });
        ApplyLatency = _meter.CreateHistogram("attribution.pipeline.batch.duration", "s", "Time to apply one batch in PostgreSQL",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        EndToEndLatency = _meter.CreateHistogram("attribution.pipeline.end_to_end.duration", "s", "Apply time minus ingest time",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        BatchRetries = _meter.CreateCounter<long>("attribution.pipeline.batch.retries", "{batch}", "Batches retried after a PostgreSQL error or a concurrent write");

        // Both gauges read what the consumer already knows (its positions, the watermarks its fetches bring back), so
        // a scrape never sends a request to the broker, however often Prometheus comes.
        _meter.CreateObservableGauge("attribution.kafka.consumer.lag", ObserveLag, "{message}",
            "Messages in Kafka not yet applied, per partition this instance consumes (high watermark minus next offset)");
        _meter.CreateObservableGauge("attribution.pipeline.freshness", ObserveFreshness, "s",
            "Now minus the ingest time of the newest applied event: how old the freshest Gold state is");
    }

    public Counter<long> EventsReceived { get; }
    public Counter<long> ProduceFailures { get; }
    public Histogram<double> ProduceLatency { get; }
    public Counter<long> EventsApplied { get; }
    public Counter<long> Audited { get; }
    public Counter<long> LateEvents { get; }
    public Counter<long> LostMessages { get; }
    public Histogram<int> BatchSize { get; }
    public Histogram<double> ApplyLatency { get; }
    public Histogram<double> EndToEndLatency { get; }
    public Counter<long> BatchRetries { get; }

    /// <summary>Newest applied event's ingest time, for the freshness gauge. Written by the consumer thread, read by
    /// scrapes: kept as ticks so a read never sees half a value.</summary>
    public DateTime? NewestAppliedIngestTime
    {
        get
        {
            var ticks = Interlocked.Read(ref _newestAppliedIngestTicks);
            return ticks == 0 ? null : new DateTime(ticks, DateTimeKind.Utc);
        }
    }

    /// <summary>Moves the freshness mark forward; an older time (a late batch) never moves it back.</summary>
    public void AppliedIngestTime(DateTime newestUtc)
    {
        var ticks = newestUtc.Ticks;
        var seen = Interlocked.Read(ref _newestAppliedIngestTicks);
        while (ticks > seen)
        {
            var previous = Interlocked.CompareExchange(ref _newestAppliedIngestTicks, ticks, seen);
            if (previous == seen) return;
            seen = previous;
        }
    }

    /// <summary>The consumer's lag on a partition it owns.</summary>
    public void SetConsumerLag(int partition, long lag) => _lag[partition] = Math.Max(0, lag);

    /// <summary>A revoked partition is another instance's to report.</summary>
    public void ForgetConsumerLag(int partition) => _lag.TryRemove(partition, out _);

    public IReadOnlyDictionary<int, long> ConsumerLag => _lag;

    public Meter Meter => _meter;

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> ObserveLag()
    {
        foreach (var (partition, lag) in _lag)
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("partition", partition));
    }

    private IEnumerable<Measurement<double>> ObserveFreshness()
    {
        if (NewestAppliedIngestTime is { } newest)
            yield return new Measurement<double>(Math.Max(0, (DateTime.UtcNow - newest).TotalSeconds));
    }
}
