using System.Runtime.InteropServices;

namespace Attribution.Projections.Pipeline;

/// <summary>
/// librdkafka's in-process mock cluster: the real Kafka protocol on 127.0.0.1, for the embedded default and the
/// tests. It keeps nothing across restarts and drops a partition's oldest messages past ~5 MiB, so it is never a
/// production broker.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    private readonly IntPtr _handle;
    private readonly IntPtr _cluster;
    private readonly int _brokers;
    private bool _disposed;

    public EmbeddedKafkaCluster(int brokers = 1)
    {
        _brokers = brokers;
        var err = new byte[512];
        // The handle only hosts the cluster; it never connects, so its "no bootstrap.servers" notice is noise.
        var conf = Librdkafka.ConfNew();
        Librdkafka.ConfSet(conf, "log_level", "4", err, (UIntPtr)err.Length);
        _handle = Librdkafka.New(Librdkafka.ProducerType, conf, err, (UIntPtr)err.Length);
        if (_handle == IntPtr.Zero)
            throw new InvalidOperationException($"librdkafka could not create a handle: {Librdkafka.ErrorText(err)}");
        _cluster = Librdkafka.MockClusterNew(_handle, brokers);
        if (_cluster == IntPtr.Zero)
        {
            Librdkafka.Destroy(_handle);
            throw new InvalidOperationException("librdkafka could not start its mock cluster");
        }

        // A real broker waits group.initial.rebalance.delay.ms (3 s, the mock's default too) before the first
        // assignment of a new group, to gather members starting together. The embedded broker serves the consumers of
        // one service, so that wait only delays every start; later joiners still rebalance as on a real broker.
        Librdkafka.MockGroupInitialRebalanceDelay(_cluster, 0);

        BootstrapServers = Marshal.PtrToStringUTF8(Librdkafka.MockClusterBootstraps(_cluster))
                           ?? throw new InvalidOperationException("the mock cluster has no bootstrap address");

        // The mock cluster's own id derives from a pointer and may repeat across restarts; a fresh GUID per start
        // guarantees offsets of an earlier embedded broker are never applied to this empty one.
        ClusterId = $"embedded-{Guid.NewGuid():N}";
    }

    public string BootstrapServers { get; }

    public string ClusterId { get; }

    public void CreateTopic(string topic, int partitions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var err = Librdkafka.MockTopicCreate(_cluster, topic, partitions, 1);
        if (err != 0)
            throw new InvalidOperationException($"could not create topic {topic}: {Librdkafka.ErrorText(err)}");
    }

    /// <summary>Takes every broker of the cluster down (connections closed, new ones refused), as an outage would; or
    /// back up. Mock brokers are numbered from 1.</summary>
    public void SetAvailable(bool available)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (var broker = 1; broker <= _brokers; broker++)
        {
            var err = available ? Librdkafka.MockBrokerSetUp(_cluster, broker) : Librdkafka.MockBrokerSetDown(_cluster, broker);
            if (err != 0)
                throw new InvalidOperationException($"could not take broker {broker} {(available ? "up" : "down")}: {Librdkafka.ErrorText(err)}");
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Librdkafka.MockClusterDestroy(_cluster);
        Librdkafka.Destroy(_handle);
    }
}
