namespace Attribution.Projections.Pipeline;

/// <summary>One consumed message, detached from the Kafka client so batches can be applied and tested alone.</summary>
public sealed record KafkaRecord(int Partition, long Offset, byte[]? Key, byte[] Value, DateTime TimestampUtc);
