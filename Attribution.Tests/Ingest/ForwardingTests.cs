using Attribution.Projections.Ingest;
using Attribution.Tests.Fixtures;
using Confluent.Kafka;

namespace Attribution.Tests.Ingest;

public sealed class ForwardedEntriesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Only_a_run_of_fully_acknowledged_entries_from_the_start_is_released()
    {
        var entries = new ForwardedEntries();
        entries.Produced(100, T0.AddSeconds(100), [(0, 10), (1, 10)]);
        entries.Produced(200, T0.AddSeconds(200), [(1, 10)]);

        entries.Acknowledged(200, 1, 5);
        Assert.Null(entries.Release(null));
        entries.Acknowledged(100, 0, 7);
        Assert.Null(entries.Release(null));
        entries.Acknowledged(100, 1, 4);

        Assert.Equal(T0.AddSeconds(100), entries.OldestSpooledAt);
        Assert.Equal(200, entries.Release(null));
        Assert.Equal(0, entries.Count);
        Assert.Null(entries.OldestSpooledAt);
    }

    [Fact]
    public void On_the_embedded_broker_an_entry_is_released_only_once_the_consumer_applied_every_record_of_it()
    {
        var entries = new ForwardedEntries();
        entries.Produced(100, T0.AddSeconds(100), [(0, 10), (1, 30)]);
        entries.Produced(200, T0.AddSeconds(200), [(0, 20)]);
        entries.Acknowledged(100, 0, 7);
        entries.Acknowledged(100, 1, 4);
        entries.Acknowledged(200, 0, 8);
        var applied = new Dictionary<int, long> { [0] = 8 };

        Assert.Null(entries.Release(p => applied.TryGetValue(p, out var o) ? o : null)); // partition 1 not applied at all
        applied[1] = 5;
        Assert.Equal(100, entries.Release(p => applied.TryGetValue(p, out var o) ? o : null)); // offset 8 of partition 0 not yet
        Assert.Equal(20, entries.OutstandingBytes(0));
        Assert.Equal(0, entries.OutstandingBytes(1));
        applied[0] = 9;
        Assert.Equal(200, entries.Release(p => applied.TryGetValue(p, out var o) ? o : null));
        Assert.Equal(0, entries.OutstandingBytes(0));
    }
}

public sealed class KafkaPartitionerTests
{
    [Fact]
    public async Task Every_key_goes_to_the_partition_librdkafkas_murmur2_partitioner_picks()
    {
        const int partitions = 16;
        var topic = TestKafka.NewTopic(partitions);
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = TestKafka.BootstrapServers,
            Partitioner = Partitioner.Murmur2,
        }).Build();
        var keys = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? $"imp-{i}" : $"{Guid.NewGuid()}-é{i}").Append("").Append("abc").ToList();

        foreach (var key in keys)
        {
            var delivered = await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = key, Value = [1] });
            Assert.True(KafkaPartitioner.Partition(key, partitions) == delivered.Partition.Value, $"key '{key}'");
        }
    }
}
