using Attribution.Projections.Observability;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Pipeline;

/// <summary>
/// Reads ad_events in batches and hands each batch to the <see cref="BatchApplier"/>. Offsets live in PostgreSQL:
/// on assignment the consumer seeks to them, and it never commits to Kafka, so what is applied and what is marked
/// consumed can never disagree.
/// </summary>
public sealed class AttributionConsumer(
    KafkaConnection kafka,
    BatchApplier applier,
    NpgsqlDataSource dataSource,
    PipelineMetrics metrics,
    ConsumerState state,
    ILogger<AttributionConsumer> logger) : BackgroundService
{
    private readonly Dictionary<int, long> _position = [];

    // The batch being filled. A field, so that a revocation (which the client reports from inside Consume) can take
    // the revoked partitions' messages out of it before they are applied.
    private List<KafkaRecord> _batch = [];

    // The batch being applied while the next one is read.
    private Task? _inFlight;
    private long _lagReportedAt;

    // Which cluster the stored offsets belong to: known once Kafka has answered.
    private string _clusterId = "";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Consume is a blocking call: keep it off the thread pool threads ASP.NET Core serves requests with.
        await Task.Factory.StartNew(() => RunAsync(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        var options = kafka.Options;
        try
        {
            _clusterId = await kafka.ClusterIdAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return;
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var consumer = Build(options);
                consumer.Subscribe(kafka.Topic);
                try
                {
                    await LoopAsync(consumer, options, ct);
                }
                finally
                {
                    // Leaving the group at once (rather than letting the session time out) hands this instance's
                    // partitions to the others in one rebalance, also when it stops mid-batch.
                    Close(consumer);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A consumer that dies stops attribution for everyone: log, wait, and start a fresh one.
                logger.LogError(e, "Kafka consumer failed; restarting in 2 s");
                state.Assigned = [];
                await Task.Delay(2000, ct).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }

        state.Assigned = [];
    }

    private IConsumer<byte[]?, byte[]> Build(KafkaOptions options) =>
        new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                GroupId = options.ConsumerGroup,
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
                AutoOffsetReset = AutoOffsetReset.Error,
                SessionTimeoutMs = options.SessionTimeoutMs,
                FetchWaitMaxMs = 50,
                QueuedMaxMessagesKbytes = 65536,
                // Only what a batch reads: the client skips building each message's headers and topic name.
                ConsumeResultFields = "timestamp",
            })
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions))
            .SetPartitionsRevokedHandler((_, partitions) =>
            {
                // The next owner starts from the offsets stored in PostgreSQL: the batch in flight, which may hold
                // these partitions' messages, commits (or fails) before they are handed over. Its failure is the
                // loop's to report.
                try
                {
                    _inFlight?.GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    logger.LogDebug(e, "The batch in flight failed during a revocation");
                }

                var revoked = partitions.Select(p => p.Partition.Value).ToHashSet();
                foreach (var p in revoked)
                {
                    _position.Remove(p);
                    metrics.ForgetConsumerLag(p);
                }

                // Messages read but not applied belong to the next owner now, which starts from the stored offsets.
                // Applying them here too would race that owner (both appending the same events), and if this
                // instance gets the partition back it reads them again from the stored offset: the batch would then
                // hold them twice and audit the second copy as a duplicate delivery.
                var dropped = _batch.RemoveAll(r => revoked.Contains(r.Partition));
                state.Assigned = _position.Keys.Order().ToArray();
                logger.LogInformation("Partitions revoked: {Partitions}; {Dropped} unapplied messages left to their next owner",
                    string.Join(",", revoked.Order()), dropped);
            })
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal) logger.LogError("Kafka consumer fatal error: {Reason}", e.Reason);
                else logger.LogWarning("Kafka consumer error: {Reason}", e.Reason);
            })
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .Build();

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions)
    {
        var options = kafka.Options;
        using var conn = dataSource.OpenConnection();
        var stored = OffsetStore.ReadAsync(conn, options.ConsumerGroup, kafka.Topic, _clusterId, CancellationToken.None).GetAwaiter().GetResult();
        var result = new List<TopicPartitionOffset>();
        foreach (var tp in partitions)
        {
            var next = stored.GetValueOrDefault(tp.Partition.Value, 0);
            var watermarks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (watermarks.Low.Value > next)
            {
                RecordLoss(conn, tp.Partition.Value, next, watermarks.Low.Value);
                next = watermarks.Low.Value;
            }

            _position[tp.Partition.Value] = next;
            result.Add(new TopicPartitionOffset(tp, new Offset(next)));
            metrics.SetConsumerLag(tp.Partition.Value, watermarks.High.Value - next);
            // A series at zero from the start, so "lost messages > 0" alerts and panels have something to compare.
            metrics.MessagesLost(tp.Partition.Value, 0);
        }

        state.Assigned = _position.Keys.Order().ToArray();
        logger.LogInformation("Partitions assigned: {Partitions}", string.Join(", ", result.Select(r => $"{r.Partition.Value}@{r.Offset.Value}")));
        return result;
    }

    private void RecordLoss(NpgsqlConnection conn, int partition, long from, long to)
    {
        logger.LogError(
            "LOST {Count} messages on {Topic}[{Partition}] offsets {From}..{To}: the broker dropped them before they were applied " +
            "(the embedded broker keeps ~5 MiB per partition). They are recorded in kafka_lost_messages.",
            to - from, kafka.Topic, partition, from, to - 1);
        metrics.MessagesLost(partition, to - from);
        OffsetStore.RecordLossAsync(conn, kafka.Options.ConsumerGroup, kafka.Topic, _clusterId, partition, from, to, CancellationToken.None)
            .GetAwaiter().GetResult();
    }

    /// <summary>
    /// Reads the next batch while the previous one is applied: the client's share of a batch (reading messages from
    /// librdkafka, parsing them) overlaps PostgreSQL's, instead of leaving the database idle meanwhile. Batches still
    /// apply one after the other, in order; a batch is handed over only when the previous one has committed.
    /// </summary>
    private async Task LoopAsync(IConsumer<byte[]?, byte[]> consumer, KafkaOptions options, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                ReportLag(consumer);
                var batch = Collect(consumer, options);
                await AwaitInFlightAsync();
                if (batch.Count == 0) continue;
                // Positions move when a batch is handed over, so that a gap detected while it applies starts after it.
                foreach (var r in batch) _position[r.Partition] = Math.Max(_position.GetValueOrDefault(r.Partition), r.Offset + 1);
                _inFlight = Task.Run(() => applier.ApplyAsync(options.ConsumerGroup, kafka.Topic, _clusterId, batch, ct), ct);
            }
        }
        finally
        {
            // Stopping or failing: what is in flight commits or rolls back before the consumer leaves its group.
            try
            {
                await AwaitInFlightAsync();
            }
            catch (Exception e) when (ct.IsCancellationRequested)
            {
                logger.LogDebug(e, "The batch in flight stopped with the service; its offsets were not stored, it is read again");
            }
        }
    }

    private async Task AwaitInFlightAsync()
    {
        if (_inFlight is not { } inFlight) return;
        _inFlight = null;
        await inFlight;
        state.LastAppliedAt = DateTime.UtcNow;
    }

    /// <summary>Up to MaxBatchSize messages, or what arrived by MaxBatchWaitMs after the first one.</summary>
    private List<KafkaRecord> Collect(IConsumer<byte[]?, byte[]> consumer, KafkaOptions options)
    {
        var batch = _batch = new List<KafkaRecord>();
        var deadline = DateTime.UtcNow.AddMilliseconds(options.MaxBatchWaitMs);
        while (batch.Count < options.MaxBatchSize)
        {
            var wait = batch.Count == 0 ? TimeSpan.FromMilliseconds(200) : deadline - DateTime.UtcNow;
            if (wait <= TimeSpan.Zero) break;
            ConsumeResult<byte[]?, byte[]>? m;
            try
            {
                m = consumer.Consume(wait);
            }
            catch (ConsumeException e) when (e.Error.Code == ErrorCode.Local_AutoOffsetReset || e.Error.Code == ErrorCode.OffsetOutOfRange)
            {
                // The broker no longer has the offset we need: count and record the gap, then go on from what
                // it still has. Apply what was read before it first, so offsets stay in order.
                if (batch.Count > 0) break;
                HandleOutOfRange(consumer, e.ConsumerRecord?.TopicPartition);
                continue;
            }

            if (m is null) break;
            if (m.IsPartitionEOF) continue;
            if (_position.TryGetValue(m.Partition.Value, out var expected) && m.Offset.Value < expected) continue;
            batch.Add(new KafkaRecord(m.Partition.Value, m.Offset.Value, m.Message.Key, m.Message.Value ?? [], m.Message.Timestamp.UtcDateTime));
        }

        return batch;
    }

    /// <summary>Lag from the high watermarks the client caches from its fetch responses: no broker round trip.</summary>
    private void ReportLag(IConsumer<byte[]?, byte[]> consumer)
    {
        var now = Environment.TickCount64;
        if (now - _lagReportedAt < 500) return;
        _lagReportedAt = now;
        foreach (var (partition, next) in _position)
        {
            var high = consumer.GetWatermarkOffsets(new TopicPartition(kafka.Topic, partition)).High;
            if (high != Offset.Unset) metrics.SetConsumerLag(partition, high.Value - next);
        }
    }

    private void Close(IConsumer<byte[]?, byte[]> consumer)
    {
        try
        {
            consumer.Close();
        }
        catch (KafkaException e)
        {
            logger.LogWarning(e, "Kafka consumer did not leave its group cleanly; the group notices after the session timeout");
        }
    }

    private void HandleOutOfRange(IConsumer<byte[]?, byte[]> consumer, TopicPartition? tp)
    {
        var targets = tp is not null ? [tp] : consumer.Assignment;
        using var conn = dataSource.OpenConnection();
        foreach (var p in targets)
        {
            var watermarks = consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10));
            var expected = _position.GetValueOrDefault(p.Partition.Value, 0);
            var next = expected;
            if (watermarks.Low.Value > expected)
            {
                RecordLoss(conn, p.Partition.Value, expected, watermarks.Low.Value);
                next = watermarks.Low.Value;
            }

            _position[p.Partition.Value] = next;
            consumer.Seek(new TopicPartitionOffset(p, new Offset(next)));
        }
    }
}

/// <summary>What the consumer is doing, for readiness and the pipeline status.</summary>
public sealed class ConsumerState
{
    public int[] Assigned { get; set; } = [];

    public DateTime? LastAppliedAt { get; set; }
}
