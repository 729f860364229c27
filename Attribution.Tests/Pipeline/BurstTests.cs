using System.Net;
using System.Text;
using Attribution.Tests.Fixtures;
using Npgsql;

namespace Attribution.Tests.Pipeline;

/// <summary>
/// A burst far beyond what the embedded broker retains (~5 MiB per partition, dropped oldest first): the forwarder
/// keeps each partition's produced-but-unapplied bytes below its bound, so the spool absorbs the burst and the
/// broker never drops a message.
/// </summary>
public sealed class BurstTests
{
    private const int Events = 3_000_000;
    private const int BatchEvents = 10_000;

    /// <summary>The default set-up: the embedded broker inside the service.</summary>
    private sealed class EmbeddedBrokerApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Kafka:BootstrapServers"] = "",
        ["Kafka:Topic"] = "ad_events",
        ["Kafka:MaxBatchSize"] = "5000",
    });

    /// <summary>Runs in the forward pass of scripts/test.sh only: it shares nothing (a service, broker, spool and
    /// database of its own), so a second order cannot change its outcome, and it takes minutes of both cores.</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task A_burst_of_three_million_events_into_the_embedded_broker_loses_none_and_applies_all()
    {
        using var api = new EmbeddedBrokerApi();
        // The first client starts the host; the senders' clients are made after it.
        using var first = api.Client();
        var started = DateTime.UtcNow;
        var senders = Enumerable.Range(0, 2).Select(sender => Task.Run(async () =>
        {
            using var http = api.Client();
            for (var batch = sender; batch < Events / BatchEvents; batch += 2)
            {
                var body = new StringBuilder(BatchEvents * 160);
                for (var i = 0; i < BatchEvents; i++)
                {
                    var n = batch * BatchEvents + i;
                    body.Append("{\"event_id\":\"e").Append(n).Append("\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"i").Append(n)
                        .Append("\",\"campaign_id\":\"c").Append(n % 20).Append("\",\"event_timestamp\":1793620800,\"bid_price\":0.5}\n");
                }

                using var response = await http.PostAsync(new Uri("/api/v1/events", UriKind.Relative),
                    new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }
        })).ToList();
        await Task.WhenAll(senders);
        var sent = DateTime.UtcNow;

        var status = await api.WaitForDrainAsync(Events, TimeSpan.FromMinutes(8));
        Console.WriteLine($"burst: {Events:N0} events acknowledged in {(sent - started).TotalSeconds:F0} s, all applied after {(DateTime.UtcNow - started).TotalSeconds:F0} s");
        Assert.Equal(0, status.LostMessages);
        await using var db = NpgsqlDataSource.Create(api.ConnectionString);
        Assert.Equal(Events, await Db.CountAsync(db, "SELECT count(*) FROM events"));
        Assert.Equal(0, await Db.CountAsync(db, "SELECT count(*) FROM kafka_lost_messages"));
    }
}
