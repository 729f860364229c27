namespace Attribution.Projections.Pipeline;

/// <summary>Configuration section "Kafka".</summary>
public sealed class KafkaOptions
{
    public const string Embedded = "embedded";

    /// <summary>Empty or "embedded" starts librdkafka's mock cluster in-process.</summary>
    public string? BootstrapServers { get; set; }

    public string Topic { get; set; } = "ad_events";

    public string ConsumerGroup { get; set; } = "attribution";

    /// <summary>Partitions of the topic the embedded cluster creates: more partitions, more retained messages.</summary>
    public int EmbeddedPartitions { get; set; } = 16;

    /// <summary>Whether this instance runs the consumer. Tracking-only instances scale out behind a load balancer.</summary>
    public bool RunConsumer { get; set; } = true;

    /// <summary>Upper bound of one batch transaction. Batches fill up only under a backlog (otherwise MaxBatchWaitMs
    /// closes them); then a large one spreads the per-transaction work (rollup cells, statements, the commit) over
    /// more events: 5 000 → 20 000 took the bench's pipeline from 41 % to 59 % of the PostgreSQL ceiling.</summary>
    public int MaxBatchSize { get; set; } = 20000;

    public int MaxBatchWaitMs { get; set; } = 50;

    public int SessionTimeoutMs { get; set; } = 10000;

    /// <summary>librdkafka's max.poll.interval.ms (its default, 300 000, when unset): how long the consumer may go
    /// without polling before it leaves its group. A PostgreSQL outage does not count, since the consumer keeps
    /// polling with its partitions paused meanwhile; only one batch's apply does.</summary>
    public int? MaxPollIntervalMs { get; set; }

    public bool IsEmbedded => string.IsNullOrWhiteSpace(BootstrapServers) ||
                              string.Equals(BootstrapServers, Embedded, StringComparison.OrdinalIgnoreCase);
}
