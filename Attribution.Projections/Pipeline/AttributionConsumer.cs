using Attribution.Projections.Observability;
using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Pipeline;

/// <summary>
/// Reads ad_events in batches and hands each batch to the <see cref="BatchApplier"/>. Offsets live in PostgreSQL:
/// on assignment the consumer seeks to them, and it never commits to Kafka, so what is applied and what is marked
/// consumed can never disagree. While PostgreSQL is away the consumer waits for it with its partitions paused and the
/// failed batch kept, then applies that batch again, whole and in order: it neither restarts nor leaves its group.
/// </summary>
public sealed class AttributionConsumer(
    KafkaConnection kafka,
    BatchApplier applier,
    NpgsqlDataSource dataSource,
    PipelineMetrics metrics,
    ConsumerState state,
    ILogger<AttributionConsumer> logger) : BackgroundService
{
    /// <summary>The first wait after PostgreSQL went away, doubled per attempt up to the longest: a PostgreSQL that
    /// returns is used within 15 s, and one probe per 15 s costs it nothing.</summary>
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(15);

    private readonly Dictionary<int, long> _position = [];

    // The batch being filled. A field, so that a revocation (which the client reports from inside Consume) can take
    // the revoked partitions' messages out of it before they are applied.
    private List<KafkaRecord> _batch = [];

    // The batch being applied while the next one is read, and its messages: kept until it has committed, so that it
    // can be applied again after PostgreSQL was away (less what a revocation gave to another owner meanwhile).
    private Task? _inFlight;
    private List<KafkaRecord>? _applying;

    // The partitions paused while PostgreSQL is away. librdkafka keeps a partition's pause across a revocation and a
    // new assignment of it (which would then never fetch), so a revocation resumes its share first.
    private List<TopicPartition> _paused = [];
    private long _lagReportedAt;

    // Which cluster the stored offsets belong to: known once Kafka has answered.
    private string _clusterId = "";
    // For the waits inside librdkafka's callbacks, which get no token of their own.
    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
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
                // A consumer that dies stops attribution for everyone: log, wait, and start a fresh one, which reads
                // again from the stored offsets.
                logger.LogError(e, "Kafka consumer failed; restarting in 2 s");
                metrics.ConsumerRestarts.Inc();
                _inFlight = null;
                _applying = null;
                _paused = [];
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
                MaxPollIntervalMs = options.MaxPollIntervalMs,
                FetchWaitMaxMs = 50,
                QueuedMaxMessagesKbytes = 65536,
                // Only what a batch reads: the client skips building each message's headers and topic name.
                ConsumeResultFields = "timestamp",
            })
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions))
            .SetPartitionsRevokedHandler((c, partitions) =>
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
                var unpause = _paused.Where(p => revoked.Contains(p.Partition.Value)).ToList();
                if (unpause.Count > 0)
                {
                    c.Resume(unpause);
                    _paused = _paused.Except(unpause).ToList();
                }

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
                // So does a batch that failed because PostgreSQL was away and waits to be applied again.
                dropped += _applying?.RemoveAll(r => revoked.Contains(r.Partition)) ?? 0;
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
        var stored = WhilePostgresAway(PostgresWait.Assignment, "the stored offsets could not be read", () =>
        {
            using var conn = dataSource.OpenConnection();
            return OffsetStore.ReadAsync(conn, options.ConsumerGroup, kafka.Topic, _clusterId, _stopping).GetAwaiter().GetResult();
        });
        var result = new List<TopicPartitionOffset>();
        foreach (var tp in partitions)
        {
            var next = stored.GetValueOrDefault(tp.Partition.Value, 0);
            var watermarks = consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10));
            if (watermarks.Low.Value > next)
            {
                RecordLoss(tp.Partition.Value, next, watermarks.Low.Value);
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

    private void RecordLoss(int partition, long from, long to)
    {
        logger.LogError(
            "LOST {Count} messages on {Topic}[{Partition}] offsets {From}..{To}: the broker dropped them before they were applied " +
            "(the embedded broker keeps ~5 MiB per partition). They are recorded in kafka_lost_messages.",
            to - from, kafka.Topic, partition, from, to - 1);
        metrics.MessagesLost(partition, to - from);
        WhilePostgresAway(PostgresWait.Assignment, "the lost messages could not be recorded", () =>
        {
            using var conn = dataSource.OpenConnection();
            OffsetStore.RecordLossAsync(conn, kafka.Options.ConsumerGroup, kafka.Topic, _clusterId, partition, from, to, _stopping)
                .GetAwaiter().GetResult();
            return true;
        });
    }

    /// <summary>
    /// Runs a PostgreSQL step of the assignment (or of a gap found in a partition) until PostgreSQL answers, waiting
    /// between attempts. Blocking in librdkafka's assignment callback is safe for the group: it runs inside a blocking
    /// poll, which librdkafka does not count against max.poll.interval.ms, and heartbeats go on in its own threads.
    /// </summary>
    private T WhilePostgresAway<T>(PostgresWait wait, string what, Func<T> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = step();
                if (attempt > 1) PostgresBack();
                return result;
            }
            catch (Exception e) when (PostgresOutage.IsUnavailable(e) && !_stopping.IsCancellationRequested)
            {
                var delay = RetryDelay(attempt);
                WaitingForPostgres(wait, e, what, attempt, delay);
                _stopping.WaitHandle.WaitOne(delay);
                _stopping.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>0.5 s, doubling per attempt, at most 15 s.</summary>
    private static TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(LongestRetry.TotalMilliseconds, FirstRetry.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 16))));

    /// <summary>One warning line per attempt, without the stack trace: an outage is not a bug, and its trace (a refused
    /// socket) says nothing the message does not.</summary>
    private void WaitingForPostgres(PostgresWait wait, Exception e, string what, int attempt, TimeSpan delay)
    {
        state.WaitingForPostgresSince ??= DateTime.UtcNow;
        state.WaitingForPostgres = wait;
        metrics.WaitingForPostgres.Set(1);
        logger.LogWarning("PostgreSQL is unavailable ({Reason}): {What}; offsets stay where they are, attempt {Attempt} in {Delay:0.#} s",
            PostgresOutage.Describe(e), what, attempt + 1, delay.TotalSeconds);
    }

    private void PostgresBack()
    {
        if (state.WaitingForPostgresSince is { } since && !_stopping.IsCancellationRequested)
            logger.LogWarning("The consumer stopped waiting for PostgreSQL after {Seconds:0.#} s", (DateTime.UtcNow - since).TotalSeconds);
        state.WaitingForPostgresSince = null;
        state.WaitingForPostgres = PostgresWait.None;
        metrics.WaitingForPostgres.Set(0);
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
                await AwaitInFlightAsync(consumer, ct);
                if (batch.Count == 0) continue;
                // Positions move when a batch is handed over, so that a gap detected while it applies starts after it.
                foreach (var r in batch) _position[r.Partition] = Math.Max(_position.GetValueOrDefault(r.Partition), r.Offset + 1);
                _applying = batch;
                _inFlight = Task.Run(() => applier.ApplyAsync(options.ConsumerGroup, kafka.Topic, _clusterId, batch, ct), ct);
            }
        }
        finally
        {
            // Stopping or failing: what is in flight commits or rolls back before the consumer leaves its group.
            try
            {
                if (_inFlight is { } inFlight)
                {
                    _inFlight = null;
                    _applying = null;
                    await inFlight;
                }
            }
            catch (Exception e) when (ct.IsCancellationRequested || PostgresOutage.IsUnavailable(e))
            {
                logger.LogDebug(e, "The batch in flight did not commit (the service stopping, or PostgreSQL away); its offsets were not stored, it is read again");
            }
        }
    }

    /// <summary>Waits for the batch in flight to commit. If PostgreSQL was away, the batch is applied again until it
    /// commits: the batch read meanwhile waits its turn, and so do the offsets.</summary>
    private async Task AwaitInFlightAsync(IConsumer<byte[]?, byte[]> consumer, CancellationToken ct)
    {
        if (_inFlight is not { } inFlight) return;
        _inFlight = null;
        try
        {
            await inFlight;
        }
        catch (Exception e) when (PostgresOutage.IsUnavailable(e) && !ct.IsCancellationRequested)
        {
            await ApplyWhenPostgresIsBackAsync(consumer, e, ct);
        }

        _applying = null;
        state.LastAppliedAt = DateTime.UtcNow;
    }

    /// <summary>
    /// Applies the batch that failed because PostgreSQL was away, with a growing wait between attempts. Meanwhile the
    /// consumer keeps polling with its partitions paused: that serves rebalances and keeps it within
    /// max.poll.interval.ms (300 s), so an outage of any length neither drops it from the group nor needs that limit
    /// raised (which would also slow down noticing a consumer that is really stuck). Paused partitions fetch nothing,
    /// and after the resume librdkafka fetches again from where the consumer had read, so nothing is skipped; a
    /// partition revoked meanwhile is resumed in the revocation (see <see cref="_paused"/>).
    /// </summary>
    private async Task ApplyWhenPostgresIsBackAsync(IConsumer<byte[]?, byte[]> consumer, Exception error, CancellationToken ct)
    {
        _paused = consumer.Assignment;
        consumer.Pause(_paused);
        try
        {
            // A revocation (before or during the wait) may hand the batch's messages to another owner: then it is done.
            for (var attempt = 1; _applying is { Count: > 0 } batch; attempt++)
            {
                var delay = RetryDelay(attempt);
                WaitingForPostgres(PostgresWait.Batch, error, $"a batch of {batch.Count} messages waits to be applied", attempt, delay);
                PollPaused(consumer, delay, ct);
                if (batch.Count == 0) break;
                metrics.BatchRetries.Inc();
                try
                {
                    await applier.ApplyAsync(kafka.Options.ConsumerGroup, kafka.Topic, _clusterId, batch, ct);
                    break;
                }
                catch (Exception e) when (PostgresOutage.IsUnavailable(e) && !ct.IsCancellationRequested)
                {
                    error = e;
                }
            }
        }
        finally
        {
            // What is still paused is still ours: a revocation meanwhile resumed its share, and a partition assigned
            // meanwhile was never paused.
            consumer.Resume(_paused);
            _paused = [];
            // Applied, stopping, or failed for another reason (the consumer then restarts): no longer waiting.
            PostgresBack();
        }
    }

    /// <summary>Polls for the given time with the partitions paused. A message still returned (fetched before the
    /// pause, or from a partition assigned meanwhile) joins the batch read next, after the one waiting, in order.</summary>
    private void PollPaused(IConsumer<byte[]?, byte[]> consumer, TimeSpan duration, CancellationToken ct)
    {
        var until = DateTime.UtcNow + duration;
        while (!ct.IsCancellationRequested && DateTime.UtcNow < until)
        {
            var wait = until - DateTime.UtcNow;
            var m = consumer.Consume(wait < TimeSpan.FromMilliseconds(200) ? wait : TimeSpan.FromMilliseconds(200));
            if (Record(m) is { } record) _batch.Add(record);
        }

        ct.ThrowIfCancellationRequested();
    }

    /// <summary>The message as the batch holds it, or null when there is none, it marks a partition's end, or it lies
    /// below what this consumer has already handed over.</summary>
    private KafkaRecord? Record(ConsumeResult<byte[]?, byte[]>? m)
    {
        if (m is null || m.IsPartitionEOF) return null;
        if (_position.TryGetValue(m.Partition.Value, out var expected) && m.Offset.Value < expected) return null;
        return new KafkaRecord(m.Partition.Value, m.Offset.Value, m.Message.Key, m.Message.Value ?? [], m.Message.Timestamp.UtcDateTime);
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
            if (Record(m) is { } record) batch.Add(record);
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
        foreach (var p in targets)
        {
            var watermarks = consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10));
            var expected = _position.GetValueOrDefault(p.Partition.Value, 0);
            var next = expected;
            if (watermarks.Low.Value > expected)
            {
                RecordLoss(p.Partition.Value, expected, watermarks.Low.Value);
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

    /// <summary>Since when the consumer waits for PostgreSQL to come back (null when it does not).</summary>
    public DateTime? WaitingForPostgresSince { get; set; }

    /// <summary>What waits for PostgreSQL.</summary>
    public PostgresWait WaitingForPostgres { get; set; }
}

/// <summary>What of the consumer waits for PostgreSQL to come back.</summary>
public enum PostgresWait
{
    None,

    /// <summary>A batch that could not be applied, kept with the partitions paused.</summary>
    Batch,

    /// <summary>A new assignment, whose stored offsets cannot be read yet (or a gap to record).</summary>
    Assignment,
}
