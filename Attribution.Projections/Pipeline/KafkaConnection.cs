using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Pipeline;

/// <summary>Where Kafka is, and which cluster it is: the embedded mock cluster, or the configured brokers.</summary>
public sealed class KafkaConnection : IDisposable
{
    private readonly EmbeddedKafkaCluster? _embedded;

    public KafkaConnection(IOptions<KafkaOptions> options, ILogger<KafkaConnection> logger)
        : this(options.Value, logger)
    {
    }

    public KafkaConnection(KafkaOptions options, ILogger logger, EmbeddedKafkaCluster? shared = null)
    {
        Options = options;
        if (options.IsEmbedded)
        {
            var cluster = shared;
            if (cluster is null)
            {
                _embedded = cluster = new EmbeddedKafkaCluster();
            }

            cluster.CreateTopic(options.Topic, options.EmbeddedPartitions);
            BootstrapServers = cluster.BootstrapServers;
            ClusterId = cluster.ClusterId;
            IsEmbedded = true;
            logger.LogWarning(
                "Embedded Kafka (librdkafka mock cluster) listening on {Bootstrap}, topic {Topic} with {Partitions} partitions. " +
                "It keeps NOTHING across restarts and drops a partition's oldest messages past ~5 MiB; " +
                "configure Kafka:BootstrapServers for real brokers.",
                BootstrapServers, options.Topic, options.EmbeddedPartitions);
        }
        else
        {
            BootstrapServers = options.BootstrapServers!;
            ClusterId = Librdkafka.FetchClusterId(BootstrapServers, TimeSpan.FromSeconds(30))
                        ?? throw new InvalidOperationException($"Kafka at {BootstrapServers} did not report a cluster id");
            logger.LogInformation("Kafka at {Bootstrap}, cluster {ClusterId}, topic {Topic}", BootstrapServers, ClusterId, options.Topic);
        }
    }

    public KafkaOptions Options { get; }

    public string BootstrapServers { get; }

    public string ClusterId { get; }

    public bool IsEmbedded { get; }

    public string Topic => Options.Topic;

    public void Dispose() => _embedded?.Dispose();
}
