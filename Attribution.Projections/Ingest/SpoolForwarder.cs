using System.Diagnostics;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Ingest;

/// <summary>What the forwarder is doing, for the pipeline status.</summary>
public sealed record ForwarderState(string Mode, long SpoolBytes, DateTimeOffset? OldestSpooledAt, long EntriesInFlight, long RecordsForwarded, string? LastError);

/// <summary>
/// Produces the spool's entries to Kafka (idempotent, acks=all, each record to the partition its key hashes to) and
/// truncates the spool behind what is safe: with a durable broker, what Kafka acknowledged; with the embedded broker,
/// which forgets everything when the process dies, only what the consumer has applied (its offsets in PostgreSQL).
/// At start it produces everything the spool still holds: the embedded broker has lost it, and a durable broker's
/// copy of an acknowledged-but-not-yet-truncated entry is a duplicate that dedup by event_id makes harmless. On the
/// embedded broker it also keeps each partition's produced-but-unapplied bytes below a bound, so the broker's
/// retention never drops a message: a burst waits in the spool.
/// </summary>
public sealed class SpoolForwarder : BackgroundService
{
    private readonly ForwardedEntries _entries = new();
    private readonly EventSpool _spool;
    private readonly KafkaConnection _kafka;
    private readonly NpgsqlDataSource _dataSource;
    private readonly IOptions<KafkaOptions> _kafkaOptions;
    private readonly IOptions<IngestOptions> _options;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger<SpoolForwarder> _logger;
    private long _forwarded;
    private long _scannedUntil;
    private string? _lastError;

    public SpoolForwarder(EventSpool spool, KafkaConnection kafka, NpgsqlDataSource dataSource, IOptions<KafkaOptions> kafkaOptions,
        IOptions<IngestOptions> options, PipelineMetrics metrics, ILogger<SpoolForwarder> logger)
    {
        _spool = spool;
        _kafka = kafka;
        _dataSource = dataSource;
        _kafkaOptions = kafkaOptions;
        _options = options;
        _metrics = metrics;
        _logger = logger;
        // The spool gauges read what the forwarder knows at scrape time.
        _metrics.Registry.AddBeforeCollectCallback(() =>
        {
            var state = State;
            _metrics.SpoolBytes.Set(state.SpoolBytes);
            _metrics.SpoolOldestAge.Set(state.OldestSpooledAt is { } oldest ? Math.Max(0, (DateTimeOffset.UtcNow - oldest).TotalSeconds) : 0);
        });
    }

    public ForwarderState State => new(_kafka.IsEmbedded ? "embedded: kept until applied" : "broker: kept until acknowledged",
        _spool.SizeBytes, _entries.OldestSpooledAt, _entries.Count, Interlocked.Read(ref _forwarded), _lastError);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        int partitions;
        try
        {
            partitions = await PartitionCountAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        using var producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
            {
                BootstrapServers = _kafka.BootstrapServers,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 2,
                CompressionType = CompressionType.Lz4,
                // Retried until Kafka takes it: the spool holds the record meanwhile, and endpoints keep answering.
                MessageTimeoutMs = 0,
                QueueBufferingMaxMessages = 1_000_000,
            })
            .SetErrorHandler((_, e) =>
            {
                _lastError = e.Reason;
                _logger.LogWarning("Kafka producer error: {Reason}", e.Reason);
            })
            .Build();
        var truncation = TruncateLoopAsync(stoppingToken);
        try
        {
            using var iterator = _spool.Read(_spool.BeginAddress);
            while (!stoppingToken.IsCancellationRequested)
            {
                while (iterator.GetNext(out var bytes, out var length, out _, out var next))
                {
                    var entry = SpoolEntryFormat.Decode(bytes.AsSpan(0, length));
                    var targets = entry.Records.Select(r => (KafkaPartitioner.Partition(r.Key, partitions), SpoolEntryFormat.RecordBytes(r))).ToList();
                    if (_kafka.IsEmbedded) await WaitForRoomAsync(targets, stoppingToken);
                    _entries.Produced(next, entry.SpooledAt, targets);
                    for (var i = 0; i < entry.Records.Count; i++)
                        Produce(producer, next, targets[i].Item1, entry.Records[i], stoppingToken);
                }

                // Everything below this address has been read and handed to the producer: what lies between the last
                // entry and here are the log's own commit records.
                Volatile.Write(ref _scannedUntil, iterator.NextAddress);
                await iterator.WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is not truncated is produced again at the next start.
        }
        finally
        {
            producer.Flush(TimeSpan.FromSeconds(5));
            try
            {
                await truncation;
            }
            catch (OperationCanceledException)
            {
                // Stopping.
            }
        }
    }

    private void Produce(IProducer<string?, byte[]> producer, long entryEnd, int partition, SpooledRecord record, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                Send(producer, entryEnd, partition, record, ct);
                return;
            }
            catch (ProduceException<string?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's own queue is full: let it deliver some first.
                producer.Poll(TimeSpan.FromMilliseconds(50));
                ct.ThrowIfCancellationRequested();
            }
        }
    }

    private void Send(IProducer<string?, byte[]> producer, long entryEnd, int partition, SpooledRecord record, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        producer.Produce(new TopicPartition(_kafka.Topic, partition), new Message<string?, byte[]> { Key = record.Key, Value = record.Value }, report =>
        {
            if (!report.Error.IsError)
            {
                _metrics.ProduceLatency.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _entries.Acknowledged(entryEnd, partition, report.Offset.Value);
                Interlocked.Increment(ref _forwarded);
                return;
            }

            // Only a permanent error ends a delivery (the timeout is infinite): the record stays in the spool and is
            // tried again, so nothing acknowledged to a client is ever given up.
            _lastError = report.Error.Reason;
            _metrics.ProduceFailures.Inc();
            _logger.LogError("Kafka refused a spooled event for impression {Key} on partition {Partition}: {Reason}; retrying in a second",
                record.Key, partition, report.Error.Reason);
            _ = Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(
                t => { if (!t.IsCanceled) Produce(producer, entryEnd, partition, record, ct); }, TaskScheduler.Default);
        });
    }

    private async Task WaitForRoomAsync(List<(int Partition, int Bytes)> targets, CancellationToken ct)
    {
        var bound = Math.Max(1, _options.Value.EmbeddedOutstandingBytesPerPartition);
        // A partition with nothing outstanding takes any entry, so one larger than the bound still goes.
        while (targets.GroupBy(t => t.Partition).Any(g => _entries.OutstandingBytes(g.Key) > 0 && _entries.OutstandingBytes(g.Key) + g.Sum(t => t.Bytes) > bound))
            await Task.Delay(5, ct);
    }

    private async Task TruncateLoopAsync(CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(Math.Max(0.01, _options.Value.TruncateIntervalSeconds));
        var group = _kafkaOptions.Value.ConsumerGroup;
        DateTime? failingSince = null;
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(interval, ct);
            try
            {
                var scanned = Volatile.Read(ref _scannedUntil);
                long? until;
                if (_kafka.IsEmbedded && _entries.Count > 0)
                {
                    Dictionary<int, long> applied;
                    await using (var conn = await _dataSource.OpenConnectionAsync(ct))
                        applied = await OffsetStore.ReadAsync(conn, group, _kafka.Topic, await _kafka.ClusterIdAsync(ct), ct);
                    until = _entries.Release(p => applied.TryGetValue(p, out var next) ? next : null);
                }
                else
                {
                    until = _entries.Release(null);
                }

                if (until is { } address) await _spool.TruncateUntilAsync(address, ct);
                // With every entry read so far released, the log's commit records after the last one go too, so an
                // idle spool holds nothing (entries read later lie above the address read before the release). Not
                // committed: a commit would add a record of its own to drop next time, and after a restart the
                // iterator skips commit records anyway.
                if (_entries.Count == 0 && scanned > _spool.BeginAddress) _spool.DropCommitRecordsUntil(scanned);
                if (failingSince is { } since)
                {
                    _logger.LogWarning("The ingest spool is truncated again after {Seconds:0.#} s", (DateTime.UtcNow - since).TotalSeconds);
                    failingSince = null;
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException || PostgresOutage.IsUnavailable(e))
            {
                // PostgreSQL away: nothing is truncated meanwhile, which is the safe side; the spool keeps every entry
                // and endpoints keep answering from it. One warning when it starts, not one per attempt (10 a second).
                _lastError = e.Message;
                if (failingSince is null)
                    _logger.LogWarning("The ingest spool cannot be truncated ({Reason}); it keeps its entries and tries again every {Interval} s",
                        PostgresOutage.Describe(e), interval.TotalSeconds);
                failingSince ??= DateTime.UtcNow;
            }
        }
    }

    /// <summary>The topic's partition count, which the partitioner needs; asked again, with a growing pause, until Kafka
    /// answers. Meanwhile the spool takes every event: a broker that is down at start is an outage like any other.</summary>
    private async Task<int> PartitionCountAsync(CancellationToken ct)
    {
        if (_kafka.IsEmbedded) return _kafkaOptions.Value.EmbeddedPartitions;
        var wait = TimeSpan.FromSeconds(1);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        while (true)
        {
            string reason;
            try
            {
                var topic = admin.GetMetadata(_kafka.Topic, TimeSpan.FromSeconds(10)).Topics.SingleOrDefault();
                if (topic is { Error.IsError: false, Partitions.Count: > 0 }) return topic.Partitions.Count;
                reason = $"topic {_kafka.Topic} has no partitions ({topic?.Error.Reason ?? "not found"}): create it";
            }
            catch (KafkaException e)
            {
                reason = e.Error.Reason;
            }

            _lastError = reason;
            _logger.LogWarning("Kafka at {Bootstrap}: {Reason}. The spool keeps every event meanwhile; asking again in {Seconds} s",
                _kafka.BootstrapServers, reason, wait.TotalSeconds);
            await Task.Delay(wait, ct);
            wait = TimeSpan.FromSeconds(Math.Min(30, wait.TotalSeconds * 2));
        }
    }
}
