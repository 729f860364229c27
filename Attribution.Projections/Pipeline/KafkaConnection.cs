using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Pipeline;

/// <summary>
/// Where Kafka is, and which cluster it is: the embedded mock cluster, or the configured brokers. A configured
/// broker that does not answer does not stop the service: tracking keeps accepting into the spool, and the cluster
/// id (which keys the stored offsets) is asked for again until Kafka answers.
/// </summary>
public sealed class KafkaConnection : IDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);
    private readonly EmbeddedKafkaCluster? _embedded;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task<string> _clusterId;

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
            _clusterId = Task.FromResult(cluster.ClusterId);
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
            _clusterId = Task.Run(() => AskForClusterIdAsync(logger, _stopping.Token));
        }
    }

    public KafkaOptions Options { get; }

    public string BootstrapServers { get; }

    /// <summary>The cluster's id once Kafka has answered; null while a configured broker has not.</summary>
    public string? ClusterId => _clusterId.IsCompletedSuccessfully ? _clusterId.Result : null;

    /// <summary>The cluster's id, waiting for Kafka to answer.</summary>
    public Task<string> ClusterIdAsync(CancellationToken ct) => _clusterId.WaitAsync(ct);

    public bool IsEmbedded { get; }

    public string Topic => Options.Topic;

    private async Task<string> AskForClusterIdAsync(ILogger logger, CancellationToken ct)
    {
        var wait = TimeSpan.FromSeconds(1);
        while (true)
        {
            if (Librdkafka.FetchClusterId(BootstrapServers, AskTimeout) is { } id)
            {
                logger.LogInformation("Kafka at {Bootstrap}, cluster {ClusterId}, topic {Topic}", BootstrapServers, id, Options.Topic);
                return id;
            }

            logger.LogWarning("Kafka at {Bootstrap} does not answer; tracking keeps accepting into the spool. Asking again in {Seconds} s",
                BootstrapServers, wait.TotalSeconds);
            await Task.Delay(wait, ct);
            wait = TimeSpan.FromSeconds(Math.Min(30, wait.TotalSeconds * 2));
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _stopping.Dispose();
        _embedded?.Dispose();
    }
}
