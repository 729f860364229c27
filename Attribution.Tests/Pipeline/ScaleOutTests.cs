using System.Text.Json.Nodes;
using Attribution.Api.Simulation;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Pipeline;

/// <summary>Two service instances in one consumer group, against one database: the way the engine scales out.</summary>
public sealed class ScaleOutTests(ITestOutputHelper output)
{
    private const int Partitions = 8;

    /// <summary>Runs in the forward pass of scripts/test.sh only: it shares nothing (a broker and databases of its own)
    /// and spends half a minute waiting on rebalances, so a second order cannot change its outcome.</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task Two_instances_split_the_partitions_and_a_rebalance_mid_stream_loses_and_duplicates_nothing()
    {
        var events = GeneratedEvents(seed: 21, impressions: 6000);
        var distinct = events.Select(e => e["event_id"]!.ToString()).Distinct().Count();
        using var broker = new EmbeddedKafkaCluster();
        var (referenceGold, referenceAudit) = await ReferenceRunAsync(events, broker);

        const string topic = "scaleout";
        broker.CreateTopic(topic, Partitions);
        var db = TestPostgres.NewDatabase("scaleout");
        var bTookOver = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            var settings = EngineHost.Settings(db, topic, group: $"g-{Guid.NewGuid():N}");
            settings["Kafka:BootstrapServers"] = broker.BootstrapServers;
            // Batches that fill for up to 400 ms out of a steady stream: a rebalance almost always finds one half full.
            settings["Kafka:MaxBatchSize"] = "2000";
            settings["Kafka:MaxBatchWaitMs"] = "400";
            await using var probe = NpgsqlDataSource.Create(db);

            // Events keep arriving across both rebalances (~5 s each on the mock cluster); the last tenth is held back until
            // B has taken over from A, so A always stops with the stream still flowing.
            var producer = Task.Run(() => ProduceSteadily(broker, topic, events, TimeSpan.FromSeconds(26), holdBackUntil: bTookOver.Task));

            var a = await EngineHost.StartAsync(settings);
            await Eventually.TrueAsync(async () => await Db.CountAsync(probe, "SELECT count(*) FROM events") > 0, "instance A applies events");

            await using var b = await EngineHost.StartAsync(settings);
            var stateA = a.Services.GetRequiredService<ConsumerState>();
            var stateB = b.Services.GetRequiredService<ConsumerState>();
            // The mock cluster often rebalances twice in a row when a member joins: wait for a split of the partitions
            // under which each instance stores offsets of its own partitions (a new split starts the count again).
            int[] ownedByA = [], ownedByB = [];
            Dictionary<int, long> offsetsAtSplit = [];
            await Eventually.TrueAsync(async () =>
            {
                var (nowA, nowB) = (stateA.Assigned.Order().ToArray(), stateB.Assigned.Order().ToArray());
                if (nowA.Length == 0 || nowB.Length == 0 || nowA.Intersect(nowB).Any() || !nowA.Union(nowB).Order().SequenceEqual(Enumerable.Range(0, Partitions)))
                    return false;
                if (!nowA.SequenceEqual(ownedByA) || !nowB.SequenceEqual(ownedByB))
                {
                    (ownedByA, ownedByB, offsetsAtSplit) = (nowA, nowB, await OffsetsAsync(probe, topic));
                    return false;
                }

                var now = await OffsetsAsync(probe, topic);
                bool Moved(int[] owned) => owned.Any(p => now.GetValueOrDefault(p) > offsetsAtSplit.GetValueOrDefault(p));
                return Moved(ownedByA) && Moved(ownedByB);
            }, "the group splits the partitions between A and B and each applies its own");
            output.WriteLine($"A owns {string.Join(",", ownedByA)}; B owns {string.Join(",", ownedByB)}");

            // A stops mid-stream (mid-batch, possibly): B takes every partition over from the offsets A stored.
            await a.DisposeAsync();
            await Eventually.TrueAsync(() => stateB.Assigned.Length == Partitions, "B takes over every partition");
            Assert.False(producer.IsCompleted, "the last tenth of the stream is produced only after B took over");
            bTookOver.SetResult();

            await producer;
            var status = await b.WaitForDrainAsync(distinct, TimeSpan.FromSeconds(120));

            Assert.Equal(0, status.LostMessages);
            Assert.Equal(events.Count, status.Partitions.Sum(p => p.EndOffset));
            Assert.Equal(distinct, await Db.CountAsync(probe, "SELECT count(*) FROM events"));
            Assert.Equal(distinct, await Db.CountAsync(probe, "SELECT count(DISTINCT event_id) FROM events"));
            Assert.Equal(referenceGold, await Db.GoldSnapshotAsync(probe));
            // Not even the audit trail shows a second delivery: no message was applied twice.
            Assert.Equal(0, await Db.CountAsync(probe, "SELECT count(*) FROM audit_log WHERE reason = 'DUPLICATE_EVENT'"));
            Assert.Equal(referenceAudit, await Db.AuditSnapshotAsync(probe));
        }
        finally
        {
            bTookOver.TrySetCanceled(); // a failed test stops the producer rather than leaving it waiting
            TestPostgres.Drop(db);
        }
    }

    private static async Task<(List<string> Gold, List<string> Audit)> ReferenceRunAsync(List<JsonObject> events, EmbeddedKafkaCluster broker)
    {
        const string topic = "reference";
        broker.CreateTopic(topic, Partitions);
        var db = TestPostgres.NewDatabase("scaleref");
        try
        {
            TestKafka.Produce(topic, events.Select(Message), broker.BootstrapServers);
            var settings = EngineHost.Settings(db, topic);
            settings["Kafka:BootstrapServers"] = broker.BootstrapServers;
            await using var engine = await EngineHost.StartAsync(settings);
            await engine.WaitForDrainAsync(events.Select(e => e["event_id"]!.ToString()).Distinct().Count());
            return (await Db.GoldSnapshotAsync(engine.DataSource), await Db.AuditSnapshotAsync(engine.DataSource));
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    }

    /// <summary>Produces the events in 800 chunks paced over <paramref name="over"/>; the last tenth only once
    /// <paramref name="holdBackUntil"/> has completed.</summary>
    private static void ProduceSteadily(EmbeddedKafkaCluster broker, string topic, List<JsonObject> events, TimeSpan over, Task holdBackUntil)
    {
        using var producer = TestKafka.Producer(broker.BootstrapServers);
        const int chunks = 800;
        var size = (events.Count + chunks - 1) / chunks;
        var started = DateTime.UtcNow;
        for (var c = 0; c * size < events.Count; c++)
        {
            if (c == chunks * 9 / 10 && !holdBackUntil.Wait(TimeSpan.FromMinutes(3)))
                throw new TimeoutException("the held-back tenth of the stream was never released");
            foreach (var e in events.Skip(c * size).Take(size))
            {
                var (key, value) = Message(e);
                producer.Produce(topic, new Message<string?, byte[]> { Key = key, Value = value });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
            var due = started + over * (c + 1) / chunks;
            if (due > DateTime.UtcNow) Thread.Sleep(due - DateTime.UtcNow);
        }

        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0) throw new InvalidOperationException("Kafka did not acknowledge every message");
    }

    private static async Task<Dictionary<int, long>> OffsetsAsync(NpgsqlDataSource db, string topic)
    {
        await using var cmd = db.CreateCommand("SELECT kafka_partition, next_offset FROM kafka_offsets WHERE topic = $1");
        cmd.Parameters.Add(new() { Value = topic });
        var offsets = new Dictionary<int, long>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) offsets[reader.GetInt32(0)] = reader.GetInt64(1);
        return offsets;
    }
}
