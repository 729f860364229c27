using Confluent.Kafka;
using Npgsql;

namespace Attribution.Projections.Pipeline;

public sealed record PartitionStatus(int Partition, long CommittedOffset, long EndOffset, long LowWatermark, long Lag);

public sealed record PipelineStatus(
    string Topic,
    string? ClusterId,
    bool Embedded,
    long Lag,
    long EventsApplied,
    long LostMessages,
    DateTime? LastAppliedAt,
    IReadOnlyList<int> AssignedPartitions,
    IReadOnlyList<PartitionStatus> Partitions)
{
    /// <summary>This instance's ingest spool and its forwarder, where it serves tracking.</summary>
    public Ingest.ForwarderState? Spool { get; init; }

    /// <summary>Why Kafka's side is missing (Kafka did not answer), or null when it answered.</summary>
    public string? KafkaError { get; init; }
}

/// <summary>Compares what Kafka holds with what PostgreSQL has applied.</summary>
public sealed class PipelineStatusReader : IDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(3);
    private readonly KafkaConnection _kafka;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ConsumerState _state;
    private readonly Lazy<IConsumer<byte[], byte[]>> _inspector;
    private readonly Lazy<IAdminClient> _admin;

    public PipelineStatusReader(KafkaConnection kafka, NpgsqlDataSource dataSource, ConsumerState state)
    {
        _kafka = kafka;
        _dataSource = dataSource;
        _state = state;
        // Never subscribes: it only asks for watermarks, so it does not join the attribution group.
        _inspector = new(() => new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = kafka.Options.ConsumerGroup + "-inspector",
            EnableAutoCommit = false,
        }).Build());
        _admin = new(() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.BootstrapServers }).Build());
    }

    public async Task<PipelineStatus> ReadAsync(CancellationToken ct)
    {
        var group = _kafka.Options.ConsumerGroup;
        await using var conn = await _dataSource.OpenConnectionAsync(ct);
        var committed = _kafka.ClusterId is { } clusterId
            ? await OffsetStore.ReadAsync(conn, group, _kafka.Topic, clusterId, ct)
            : new Dictionary<int, long>();
        long applied = 0, lost = 0;
        DateTime? lastApplied = null;
        await using (var cmd = new NpgsqlCommand("""
            SELECT coalesce(sum(events_applied), 0)::bigint, max(last_applied_at),
                   (SELECT coalesce(sum(to_offset - from_offset), 0)::bigint FROM kafka_lost_messages WHERE consumer_group = $1 AND topic = $2)
            FROM kafka_offsets WHERE consumer_group = $1 AND topic = $2
            """, conn))
        {
            cmd.Parameters.Add(new() { Value = group });
            cmd.Parameters.Add(new() { Value = _kafka.Topic });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
            {
                applied = reader.GetInt64(0);
                lastApplied = reader.IsDBNull(1) ? null : DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
                lost = reader.GetInt64(2);
            }
        }

        var (partitions, kafkaError) = await Task.Run(() => ReadPartitions(committed), ct);
        return new PipelineStatus(_kafka.Topic, _kafka.ClusterId, _kafka.IsEmbedded, partitions.Sum(p => p.Lag), applied, lost,
            lastApplied, _state.Assigned, partitions) { KafkaError = kafkaError };
    }

    /// <summary>Kafka's side of each partition; none, and the reason, while Kafka does not answer (the status is how an
    /// operator sees the spool holding events meanwhile, so it must not fail with Kafka).</summary>
    private (List<PartitionStatus> Partitions, string? Error) ReadPartitions(IReadOnlyDictionary<int, long> committed)
    {
        try
        {
            var metadata = _admin.Value.GetMetadata(_kafka.Topic, AskTimeout);
            var topic = metadata.Topics.SingleOrDefault(t => t.Topic == _kafka.Topic);
            if (topic is null || topic.Error.IsError || topic.Partitions.Count == 0)
                return ([], $"Kafka has no partitions of {_kafka.Topic}: {topic?.Error.Reason ?? "not found"}");
            return (topic.Partitions.Select(p => p.PartitionId).Order().Select(p =>
            {
                var w = _inspector.Value.QueryWatermarkOffsets(new TopicPartition(_kafka.Topic, p), AskTimeout);
                var next = committed.GetValueOrDefault(p, 0);
                return new PartitionStatus(p, next, w.High.Value, w.Low.Value, Math.Max(0, w.High.Value - Math.Max(next, w.Low.Value)));
            }).ToList(), null);
        }
        catch (KafkaException e)
        {
            return ([], $"Kafka at {_kafka.BootstrapServers} did not answer: {e.Error.Reason}");
        }
    }

    public void Dispose()
    {
        if (_inspector.IsValueCreated) _inspector.Value.Dispose();
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}
