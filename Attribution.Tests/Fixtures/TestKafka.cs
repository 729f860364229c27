using Attribution.Projections.Pipeline;
using Confluent.Kafka;

namespace Attribution.Tests.Fixtures;

/// <summary>One librdkafka mock cluster for the whole test run: the real Kafka protocol on 127.0.0.1.</summary>
public static class TestKafka
{
    private static readonly Lazy<EmbeddedKafkaCluster> LazyCluster = new(() => new EmbeddedKafkaCluster());

    public static EmbeddedKafkaCluster Cluster => LazyCluster.Value;

    public static string BootstrapServers => Cluster.BootstrapServers;

    /// <summary>A topic of its own for one test, so tests never see each other's messages.</summary>
    public static string NewTopic(int partitions = 4)
    {
        var topic = $"t-{Guid.NewGuid():N}";
        Cluster.CreateTopic(topic, partitions);
        return topic;
    }

    /// <summary>A producer to the shared cluster, or to <paramref name="bootstrapServers"/> (a test's own broker).</summary>
    public static IProducer<string?, byte[]> Producer(string? bootstrapServers = null) =>
        new ProducerBuilder<string?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers ?? BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = 5,
        }).Build();

    public static void Produce(string topic, IEnumerable<(string? Key, byte[] Value)> messages, string? bootstrapServers = null)
    {
        using var producer = Producer(bootstrapServers);
        foreach (var (key, value) in messages)
        {
            while (true)
            {
                try
                {
                    producer.Produce(topic, new Message<string?, byte[]> { Key = key, Value = value });
                    break;
                }
                catch (ProduceException<string?, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }

        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0) throw new InvalidOperationException("Kafka did not acknowledge every test message");
    }
}
