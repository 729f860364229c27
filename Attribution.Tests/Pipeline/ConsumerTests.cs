using System.Text;
using System.Text.Json.Nodes;
using Attribution.Api.Simulation;
using Attribution.Projections.Gold;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Pipeline;

/// <summary>Through the real Kafka protocol (the mock cluster) into PostgreSQL, with the consumer the service runs.</summary>
public sealed class ConsumerTests
{
    /// <summary>Produces the events to a fresh topic, runs an engine on a fresh database until they are applied,
    /// then hands the engine to the test body.</summary>
    private static async Task WithDrainedEngineAsync(IReadOnlyList<JsonObject> events, Func<EngineHost, Task> then, int partitions = 4)
    {
        var topic = TestKafka.NewTopic(partitions);
        var db = TestPostgres.NewDatabase("consumer");
        try
        {
            TestKafka.Produce(topic, events.Select(Message));
            await using var engine = await EngineHost.StartAsync(EngineHost.Settings(db, topic));
            await engine.WaitForDrainAsync(events.Select(e => e["event_id"]!.ToString()).Distinct().Count());
            await then(engine);
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    }

    private static async Task<(List<string> Gold, List<string> Audit)> RunToCompletionAsync(IEnumerable<JsonObject> events)
    {
        (List<string>, List<string>) result = default;
        await WithDrainedEngineAsync(events.ToList(), async engine =>
            result = (await Db.GoldSnapshotAsync(engine.DataSource), await Db.AuditSnapshotAsync(engine.DataSource)));
        return result;
    }

    [Fact]
    public async Task Events_produced_to_kafka_end_up_in_the_event_store_and_gold()
    {
        var events = GeneratedEvents(seed: 1, impressions: 400);
        await WithDrainedEngineAsync(events, async engine =>
        {
            var status = await engine.WaitForDrainAsync(events.Count);
            Assert.Equal(events.Count, status.EventsApplied);
            Assert.Equal(0, status.LostMessages);
            Assert.Equal(events.Count, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM events"));
            Assert.Equal(400, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_time IS NOT NULL"));
            var clicks = events.Count(e => e["event_type"]!.ToString() == "CLICK");
            Assert.Equal(clicks, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE is_clicked"));
            Assert.Equal(0, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM events e WHERE kafka_offset IS NULL"));
        });
    }

    [Fact]
    public async Task The_same_messages_delivered_twice_change_nothing()
    {
        var events = GeneratedEvents(seed: 2, impressions: 300);
        var (onceGold, _) = await RunToCompletionAsync(events);

        var (twiceGold, twiceAudit) = await RunToCompletionAsync(events.Concat(events.Select(e => e.DeepClone().AsObject())));

        Assert.Equal(onceGold, twiceGold);
        Assert.Equal(events.Count, twiceAudit.Count(a => a.EndsWith(":DUPLICATE_EVENT", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_consumer_stopped_mid_way_and_restarted_as_a_new_instance_leaves_gold_identical_to_an_uninterrupted_run()
    {
        var events = GeneratedEvents(seed: 3, impressions: 6000);
        var (reference, referenceAudit) = await RunToCompletionAsync(events);

        var topic = TestKafka.NewTopic();
        var db = TestPostgres.NewDatabase("restart");
        try
        {
            // The stream's second half is produced only once the first instance has stopped, so the stop lands
            // mid-stream whatever the pace of the machine; within the first half it lands wherever the consumer is.
            var half = events.Count / 2;
            TestKafka.Produce(topic, events.Take(half).Select(Message));
            var settings = EngineHost.Settings(db, topic);
            settings["Kafka:MaxBatchSize"] = "300";
            var first = await EngineHost.StartAsync(settings);
            await using var probe = Npgsql.NpgsqlDataSource.Create(db);
            await Eventually.TrueAsync(async () => await Db.CountAsync(probe, "SELECT count(*) FROM events") > 0, "the first instance applies events");
            await first.DisposeAsync(); // cancels the consumer wherever it is, mid-batch included
            Assert.InRange(await Db.CountAsync(probe, "SELECT count(*) FROM events"), 1, half);
            TestKafka.Produce(topic, events.Skip(half).Select(Message));

            await using var second = await EngineHost.StartAsync(settings);
            await second.WaitForDrainAsync(events.Count);

            Assert.Equal(reference, await Db.GoldSnapshotAsync(second.DataSource));
            Assert.Equal(referenceAudit, await Db.AuditSnapshotAsync(second.DataSource));
            Assert.Equal(events.Count, await Db.CountAsync(second.DataSource, "SELECT count(*) FROM events"));
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    }

    [Fact]
    public async Task Replay_rebuilds_gold_and_audit_exactly()
    {
        var events = GeneratedEvents(seed: 4, impressions: 1500);
        await WithDrainedEngineAsync(events, async engine =>
        {
            var live = await Db.GoldSnapshotAsync(engine.DataSource);
            var liveAudit = await Db.AuditSnapshotAsync(engine.DataSource);
            await using (var wipe = engine.DataSource.CreateCommand("UPDATE ad_performance_state SET revenue = 0, is_converted = false"))
                await wipe.ExecuteNonQueryAsync();

            var (impressions, replayed) = await engine.Services.GetRequiredService<GoldRebuilder>()
                .RebuildAsync(null, CancellationToken.None, chunk: 400);

            Assert.Equal(1500, impressions);
            Assert.Equal(events.Count, replayed);
            Assert.Equal(live, await Db.GoldSnapshotAsync(engine.DataSource));
            Assert.Equal(liveAudit, await Db.AuditSnapshotAsync(engine.DataSource));
        });
    }

    [Fact]
    public async Task Messages_the_broker_dropped_before_they_were_read_are_counted_as_lost_never_skipped_silently()
    {
        // One partition, ~12 MiB: the mock cluster keeps ~5 MiB per partition and drops the oldest silently.
        var topic = TestKafka.NewTopic(partitions: 1);
        var padding = new string('x', 8000);
        var events = Enumerable.Range(0, 1500).Select(i =>
        {
            var e = Impression($"lost-{i}", $"lost-e{i}", TimeSpan.FromSeconds(i));
            e["padding"] = padding;
            return e;
        }).ToList();
        TestKafka.Produce(topic, events.Select(Message));
        var db = TestPostgres.NewDatabase("lost");
        try
        {
            await using var engine = await EngineHost.StartAsync(EngineHost.Settings(db, topic));
            var reader = engine.Services.GetRequiredService<PipelineStatusReader>();
            var status = await Eventually.ValueAsync(() => reader.ReadAsync(CancellationToken.None), s => s.Lag == 0 && s.LostMessages > 0,
                "the consumer reaches the end of the partition and counts the dropped messages as lost");

            var low = status.Partitions.Single().LowWatermark;
            Assert.True(low > 0, "the broker should have dropped the oldest messages");
            Assert.Equal(low, status.LostMessages);
            Assert.Equal(events.Count - low, status.EventsApplied);
            Assert.Equal(1, await Db.CountAsync(engine.DataSource, "SELECT count(*) FROM kafka_lost_messages WHERE from_offset = 0 AND to_offset = $1", low));
        }
        finally
        {
            TestPostgres.Drop(db);
        }
    }
}
