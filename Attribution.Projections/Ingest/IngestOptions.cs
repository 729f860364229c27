namespace Attribution.Projections.Ingest;

/// <summary>Configuration section "Ingest": the spool every tracking endpoint writes to before it answers.</summary>
public sealed class IngestOptions
{
    /// <summary>The spool's folder, relative to the content root unless absolute. One service instance per folder.</summary>
    public string SpoolPath { get; set; } = Path.Combine(".data", "spool");

    /// <summary>Above this many bytes held (Kafka not taking them), endpoints answer 503 with Retry-After.</summary>
    public long SpoolMaxBytes { get; set; } = 4L << 30;

    /// <summary>On the embedded broker, bytes produced to a partition and not yet applied by the consumer: kept well
    /// below the ~5 MiB the mock broker retains per partition, so it never drops a message; the spool holds the rest.</summary>
    public long EmbeddedOutstandingBytesPerPartition { get; set; } = 2L << 20;

    /// <summary>Requests that may wait for the spool's disk at once; the next answers 503 with Retry-After (load shed).</summary>
    public int MaxPendingAppends { get; set; } = 4096;

    /// <summary>How often the forwarder looks at what Kafka acknowledged or the consumer applied, to truncate.</summary>
    public double TruncateIntervalSeconds { get; set; } = 0.1;

    /// <summary>Ingest keys from configuration, id → secret (Ingest:Keys:&lt;id&gt;): they sign postbacks and batches
    /// beside the keys made through the admin API, and cannot be revoked through it.</summary>
    public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);

    /// <summary>How often every instance reads the stored ingest keys again, besides on each change notified.</summary>
    public double KeyRefreshSeconds { get; set; } = 30;
}
