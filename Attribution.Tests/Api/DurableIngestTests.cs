using System.Net;
using System.Text;
using System.Text.Json;
using Attribution.Tests.Fixtures;
using Npgsql;

namespace Attribution.Tests.Api;

/// <summary>A 2xx is a promise: what the tracking endpoints acknowledged survives kill -9 of the service, on the
/// default set-up whose embedded broker loses everything with the process.</summary>
public sealed class DurableIngestTests
{
    /// <summary>Forward pass only: a service process, broker, spool and database of its own (LiveService).</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task Every_acknowledged_event_reaches_the_event_store_once_after_the_service_is_killed_and_started_again()
    {
        var db = TestPostgres.NewDatabase("durable");
        var folder = Directory.CreateTempSubdirectory("durable-ingest-");
        var acknowledged = new List<string>();
        try
        {
            // The first instance runs no consumer: everything it acknowledges lives only in its spool and its embedded
            // broker when it is killed, so without the spool every event would be lost.
            using (var first = LiveService.Start(db, new Dictionary<string, string> { ["Kafka__RunConsumer"] = "false" }, folder))
            {
                using var http = first.Http();
                await first.WaitAsync(async () => (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).IsSuccessStatusCode, "the service to start");
                for (var batch = 0; batch < 20; batch++)
                {
                    var ids = Enumerable.Range(0, 500).Select(i => $"dur-{batch}-{i}").ToList();
                    var body = string.Join('\n', ids.Select(id => $$"""{"event_id":"{{id}}","event_type":"IMPRESSION","impression_id":"imp-{{id}}","campaign_id":"c","bid_price":0.5}"""));
                    using var response = await http.PostAsync(new Uri("/api/v1/events", UriKind.Relative),
                        new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
                    Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                    acknowledged.AddRange(ids);
                }

                await using var before = NpgsqlDataSource.Create(db);
                Assert.Equal(0, await Db.CountAsync(before, "SELECT count(*) FROM events"));
                // Disposing kills the process (SIGKILL) at once.
            }

            using var second = LiveService.Start(db, folder: folder);
            await using var data = NpgsqlDataSource.Create(db);
            await second.WaitAsync(async () => await Db.CountAsync(data, "SELECT count(*) FROM events WHERE event_id = ANY($1)", [acknowledged.ToArray()]) == acknowledged.Count,
                $"all {acknowledged.Count} acknowledged events in the event store", 120);

            Assert.Equal(acknowledged.Count, await Db.CountAsync(data, "SELECT count(*) FROM events"));
            Assert.Equal(acknowledged.Count, await Db.CountAsync(data, "SELECT count(*) FROM ad_performance_state"));
            using var http2 = second.Http();
            // Once applied, the spool lets go of them.
            await second.WaitAsync(async () => JsonDocument.Parse(await http2.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative)))
                .RootElement.GetProperty("spool").GetProperty("spool_bytes").GetInt64() == 0, "the spool to be truncated behind the applied events", 60);
        }
        finally
        {
            folder.Delete(recursive: true);
            TestPostgres.Drop(db);
        }
    }
}

/// <summary>A spool that may not grow: nothing is acknowledged that is not stored.</summary>
public sealed class FullSpoolTests
{
    /// <summary>The embedded broker with no consumer: the spool keeps everything until it is applied, so it only grows.</summary>
    private sealed class TinySpoolApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Kafka:BootstrapServers"] = "",
        ["Kafka:Topic"] = "ad_events",
        ["Kafka:RunConsumer"] = "false",
        ["Ingest:SpoolMaxBytes"] = "4096",
    });

    [Fact]
    public async Task A_full_spool_answers_503_with_retry_after_and_keeps_what_it_acknowledged()
    {
        using var api = new TinySpoolApi();
        using var http = api.Client();
        var acknowledged = 0;
        HttpResponseMessage? refused = null;
        for (var i = 0; i < 200 && refused is null; i++)
        {
            var response = await http.GetAsync(new Uri($"/pixel?impression_id=full-{i}&campaign_id=c", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.OK) acknowledged++;
            else refused = response;
        }

        Assert.NotNull(refused);
        Assert.True(acknowledged > 0, "the spool took nothing at all");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
        Assert.Contains("Ingest:SpoolMaxBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // What was acknowledged is all still held (nothing applied it): the forwarder produced every pixel's entry and
        // released none; and the spool stayed within its bound.
        var spool = await Eventually.ValueAsync(
            async () => JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative))).RootElement.GetProperty("spool").Clone(),
            s => s.GetProperty("records_forwarded").GetInt64() == acknowledged, $"the forwarder to produce the {acknowledged} acknowledged pixels");
        Assert.Equal(acknowledged, spool.GetProperty("entries_in_flight").GetInt64());
        Assert.InRange(spool.GetProperty("spool_bytes").GetInt64(), 1, 4096);
    }
}
