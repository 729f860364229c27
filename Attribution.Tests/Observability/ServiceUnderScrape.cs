using System.Text;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Attribution.Tests.Observability;

/// <summary>The whole service (Program) in-process, on a database and a topic of its own, for scraping /metrics.</summary>
public sealed class ServiceUnderScrape : WebApplicationFactory<Program>
{
    public ServiceUnderScrape()
    {
        ConnectionString = TestPostgres.NewDatabase("metrics");
        Topic = TestKafka.NewTopic(Partitions);
    }

    public const int Partitions = 4;

    public string ConnectionString { get; }

    public string Topic { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
        builder.UseSetting("Kafka:BootstrapServers", TestKafka.BootstrapServers);
        builder.UseSetting("Kafka:Topic", Topic);
        builder.UseSetting("Kafka:ConsumerGroup", $"g-{Guid.NewGuid():N}");
        builder.UseSetting("Kafka:SessionTimeoutMs", "6000");
        builder.UseSetting("Tracking:ClickSigningKeys:0", ApiFactory.ClickSigningKey);
        builder.UseSetting("Lakehouse:WarehousePath", Path.Combine(Path.GetTempPath(), "attribution-tests", Guid.NewGuid().ToString("N")));
        builder.UseSetting("Ingest:SpoolPath", Path.Combine(Path.GetTempPath(), "attribution-tests", Guid.NewGuid().ToString("N"), "spool"));
        // Jobs run only when a test runs one (through the runner): a scheduled export would move their series.
        builder.UseSetting("Jobs:Enabled", "false");
        builder.UseSetting(TestIngestKey.Setting, TestIngestKey.Secret);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }

    public HttpClient Client() => CreateDefaultClient(new Uri("http://localhost"), TestIngestKey.Handler());

    public async Task<PromExposition> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>Scrapes until every partition's lag series is there and at zero: the consumer loop refreshes the
    /// gauge at most twice a second, so a scrape right after a drain may not show it yet. Fails after the deadline.</summary>
    public async Task<PromExposition> ScrapeDrainedAsync(HttpClient client, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var scraped = await ScrapeAsync(client);
            var lagging = Enumerable.Range(0, Partitions).Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Where(p => !scraped.Has("attribution_kafka_consumer_lag", ("partition", p)) || scraped.Value("attribution_kafka_consumer_lag", ("partition", p)) != 0)
                .ToList();
            if (lagging.Count == 0) return scraped;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the consumer lag gauge did not reach zero on partitions {string.Join(", ", lagging)}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the consumer has applied everything Kafka holds and at least this many events.</summary>
    public Task<PipelineStatus> WaitForDrainAsync(long events, TimeSpan? timeout = null) =>
        Drain.WaitAsync(Services.GetRequiredService<PipelineStatusReader>(), events, timeout);

    public static StringContent Ndjson(IEnumerable<string> lines) =>
        new(string.Join("\n", lines), Encoding.UTF8, "application/x-ndjson");

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) TestPostgres.Drop(ConnectionString);
    }
}
