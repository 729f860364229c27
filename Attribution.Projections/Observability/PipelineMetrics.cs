using Prometheus;

namespace Attribution.Projections.Observability;

/// <summary>
/// The engine's instruments, on prometheus-net's own types in the host's registry: its meter adapter would turn a
/// .NET counter into a gauge and drop a series left unchanged for five minutes (a lost-messages counter among them),
/// and it ignores bucket advice. Names, labels and buckets are the ones the dashboards and alerts query.
/// </summary>
public sealed class PipelineMetrics
{
    private long _newestAppliedIngestTicks;

    /// <param name="registry">The host's registry; without one the instruments live in a registry of their own, never
    /// in prometheus-net's process-wide default one.</param>
    public PipelineMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        // No exemplars: every pixel counts here, and reading the trace context for one cost more than the count.
        EventsReceived = factory.CreateCounter("attribution_events_received_total", "Events received by the tracking API, by type and endpoint",
            new CounterConfiguration { LabelNames = ["type", "endpoint"], ExemplarBehavior = ExemplarBehavior.NoExemplars() });
        ProduceFailures = factory.CreateCounter("attribution_kafka_produce_failures_total", "Events Kafka did not acknowledge");
        ProduceLatency = factory.CreateHistogram("attribution_kafka_produce_duration_seconds", "Time until Kafka acknowledged a write",
            new HistogramConfiguration { Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        SpoolBytes = factory.CreateGauge("attribution_ingest_spool_bytes",
            "Bytes in this instance's ingest spool: acknowledged to clients, not yet safe to drop (Kafka has not taken them, or on the embedded broker the consumer has not applied them)");
        SpoolOldestAge = factory.CreateGauge("attribution_ingest_spool_oldest_age_seconds", "Age of the oldest entry in this instance's ingest spool (0 when empty)");
        EventsApplied = factory.CreateCounter("attribution_events_applied_total", "Events appended to the event store and folded into Gold");
        Audited = factory.CreateCounter("attribution_events_audited_total",
            "Events that did not count, or not in full, by audit reason; each event once, with its outcome when applied", "reason");
        LateEvents = factory.CreateCounter("attribution_events_late_total", "Applied events that arrived later than the late threshold, counted once when applied");
        LostMessages = factory.CreateCounter("attribution_kafka_lost_messages_total", "Messages the broker dropped before the consumer read them", "partition");
        BatchSize = factory.CreateHistogram("attribution_pipeline_batch_size", "Messages per applied batch",
            new HistogramConfiguration { Buckets = [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000] });
        ApplyLatency = factory.CreateHistogram("attribution_pipeline_batch_duration_seconds", "Time to apply one batch in PostgreSQL",
            new HistogramConfiguration { Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        EndToEndLatency = factory.CreateHistogram("attribution_pipeline_end_to_end_duration_seconds", "Apply time minus ingest time",
            new HistogramConfiguration { Buckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        BatchRetries = factory.CreateCounter("attribution_pipeline_batch_retries_total", "Batches retried after a PostgreSQL error or a concurrent write");
        WaitingForPostgres = factory.CreateGauge("attribution_pipeline_waiting_for_postgres",
            "1 while the consumer waits for PostgreSQL to come back (its partitions paused, offsets unchanged), else 0");
        ConsumerRestarts = factory.CreateCounter("attribution_kafka_consumer_restarts_total",
            "Times the consumer failed, left its group and started again (a PostgreSQL outage is waited out, not restarted)");
        ConsumerLag = factory.CreateGauge("attribution_kafka_consumer_lag",
            "Messages in Kafka not yet applied, per partition this instance consumes (high watermark minus next offset)", "partition");
        // No series until an event has been applied: zero would claim a Gold state fresh to the second.
        Freshness = factory.CreateGauge("attribution_pipeline_freshness_seconds",
            "Now minus the ingest time of the newest applied event: how old the freshest Gold state is",
            new GaugeConfiguration { SuppressInitialValue = true });

        // Both gauges read what the consumer already knows (its positions, the watermarks its fetches bring back; the
        // freshness mark), so a scrape never sends a request to the broker, however often Prometheus comes.
        Registry.AddBeforeCollectCallback(UpdateFreshness);
    }

    /// <summary>Where these instruments are exported from.</summary>
    public CollectorRegistry Registry { get; }

    public Counter EventsReceived { get; }
    public Counter ProduceFailures { get; }
    public Histogram ProduceLatency { get; }
    public Gauge SpoolBytes { get; }
    public Gauge SpoolOldestAge { get; }
    public Counter EventsApplied { get; }
    public Counter Audited { get; }
    public Counter LateEvents { get; }
    public Counter LostMessages { get; }
    public Histogram BatchSize { get; }
    public Histogram ApplyLatency { get; }
    public Histogram EndToEndLatency { get; }
    public Counter BatchRetries { get; }
    public Gauge WaitingForPostgres { get; }
    public Counter ConsumerRestarts { get; }
    public Gauge ConsumerLag { get; }
    public Gauge Freshness { get; }

    /// <summary>Sees every end-to-end latency the histogram observes. The bench takes exact percentiles from it, which
    /// the histogram's buckets cannot give; nothing else sets it.</summary>
    public Action<double>? EndToEndObserved { get; set; }

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

    public void ObserveEndToEnd(double seconds)
    {
        EndToEndLatency.Observe(seconds);
        EndToEndObserved?.Invoke(seconds);
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
    public void SetConsumerLag(int partition, long lag) => ConsumerLag.WithLabels(Label(partition)).Set(Math.Max(0, lag));

    /// <summary>A revoked partition is another instance's to report.</summary>
    public void ForgetConsumerLag(int partition) => ConsumerLag.RemoveLabelled(Label(partition));

    /// <summary>Puts a partition's lost-message series at zero (so "lost > 0" alerts have a series to compare), or adds to it.</summary>
    public void MessagesLost(int partition, long count) => LostMessages.WithLabels(Label(partition)).Inc(count);

    private static string Label(int partition) => partition.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private void UpdateFreshness()
    {
        if (NewestAppliedIngestTime is { } newest) Freshness.Set(Math.Max(0, (DateTime.UtcNow - newest).TotalSeconds));
    }
}
