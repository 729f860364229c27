namespace Attribution.Projections.Pipeline;

/// <summary>One consumed message, detached from the Kafka client so batches can be applied and tested alone. A value,
/// held inline in the batch's arrays: one object fewer per message on the pipeline's hot path.</summary>
public readonly record struct KafkaRecord(int Partition, long Offset, byte[]? Key, byte[] Value, DateTime TimestampUtc);
