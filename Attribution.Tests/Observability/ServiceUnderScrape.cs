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
        builder.UseSetting("Lakehouse:WarehousePath", Path.Combine(Path.GetTempPath(), "attribution-tests", Guid.NewGuid().ToString("N")));
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }

    public HttpClient Client() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    public async Task<PromExposition> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        return PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());
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
