using System.Text.Json;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Pipeline;

/// <summary>
/// Kafka down for a minute, with a restart of the service in the middle of it: the tracking endpoints keep answering
/// from the spool, and when Kafka is back everything acknowledged is applied, none of it twice. The broker is a mock
/// cluster of this test's own, outside the service (as a real broker is), taken down through librdkafka's
/// rd_kafka_mock_broker_set_down.
/// </summary>
public sealed class KafkaOutageTests
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    /// <summary>Forward pass only, as the burst: it shares nothing (a broker, a service and a database of its own), so another order cannot change
    /// its outcome, and it takes minutes.</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task Every_event_acknowledged_while_kafka_was_down_for_a_minute_is_applied_once_when_it_returns_across_a_restart()
    {
        using var broker = new EmbeddedKafkaCluster();
        broker.CreateTopic("ad_events", 4);
        var settings = new Dictionary<string, string>
        {
            ["Kafka__BootstrapServers"] = broker.BootstrapServers,
            ["Kafka__Topic"] = "ad_events",
            ["Kafka__ConsumerGroup"] = "attribution",
        };
        await RestartableService.RunAsync("kafkaout", settings, "/health/ready", async service =>
        {
            await using var load = new TrackingLoad(() => service.Client, "ko");
            await Eventually.TrueAsync(() => load.Acknowledged.Count > 1000, "some traffic before the outage");

            broker.SetAvailable(false);
            var down = DateTime.UtcNow;
            var acknowledgedAtDown = load.Acknowledged.Count;
            await using var store = Npgsql.NpgsqlDataSource.Create(service.ConnectionString);
            await Task.Delay(TimeSpan.FromSeconds(5));
            var appliedEarly = await Db.CountAsync(store, "SELECT count(*) FROM events");
            await Task.Delay(Outage / 3);
            var status = await StatusAsync(service);
            Assert.True(status.GetProperty("spool").GetProperty("spool_bytes").GetInt64() > 0, $"the spool holds what Kafka cannot take: {status}");
            // The outage is real: nothing reaches the event store while the broker is down.
            Assert.Equal(appliedEarly, await Db.CountAsync(store, "SELECT count(*) FROM events"));

            // Killed while the spool holds events Kafka never took, and started again while Kafka is still down.
            await service.KillAndRestartAsync();
            await StatusAsync(service);

            var rest = Outage - (DateTime.UtcNow - down);
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
            Assert.True(load.Acknowledged.Count > acknowledgedAtDown + 1000, "the endpoints kept acknowledging while Kafka was down");
            broker.SetAvailable(true);
            await Task.Delay(TimeSpan.FromSeconds(3));
            await load.StopAsync();

            Assert.Equal(0, load.Unexpected.Count);
            await Acknowledgements.AssertAppliedExactlyOnceAsync(service.Http, service.ConnectionString, load, TimeSpan.FromSeconds(120));
        });
    }

    /// <summary>The pipeline status, which answers (200) while Kafka is down.</summary>
    private static async Task<JsonElement> StatusAsync(RestartableService service)
    {
        using var http = service.Http();
        return JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative))).RootElement;
    }
}
