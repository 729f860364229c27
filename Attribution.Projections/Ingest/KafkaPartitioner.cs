using System.Text;

namespace Attribution.Projections.Ingest;

/// <summary>
/// Kafka's default partitioner for keyed messages (murmur2 of the key's bytes, sign bit cleared, modulo the partition
/// count), as Java clients and librdkafka's "murmur2" partitioner compute it. The forwarder picks each record's
/// partition itself so that it knows, before producing, how much it has outstanding in every partition; producers
/// that use Kafka's default elsewhere put the same impression on the same partition.
/// </summary>
public static class KafkaPartitioner
{
    public static int Partition(string? key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(partitions);
        // Keyless records (none come from the tracking API) go to partition 0 rather than a random one: the forwarder
        // must know where everything went.
        if (key is null) return 0;
        // Once per forwarded event: impression ids are short, so their bytes go on the stack.
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> bytes = max <= 256 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(key, bytes);
        return (Murmur2(bytes[..length]) & 0x7fffffff) % partitions;
    }

    public static int Murmur2(ReadOnlySpan<byte> data)
    {
        const uint M = 0x5bd1e995;
        const int R = 24;
        var length = data.Length;
        var h = 0x9747b28cu ^ (uint)length;
        var blocks = length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = (uint)(data[i * 4] | (data[i * 4 + 1] << 8) | (data[i * 4 + 2] << 16) | (data[i * 4 + 3] << 24));
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }

        var tail = length & ~3;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= M;
                break;
        }

        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
