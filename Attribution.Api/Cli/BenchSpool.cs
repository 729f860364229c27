using System.Diagnostics;
using System.Text;
using Attribution.Projections.Ingest;
using Attribution.Projections.Pipeline;

namespace Attribution.Api.Cli;

internal sealed record SpoolResult(long Events, long SpoolBytes, double FillSeconds, double DrainSeconds)
{
    public double FillEventsPerSecond => Events / FillSeconds;

    public double DrainEventsPerSecond => Events / DrainSeconds;
}

/// <summary>
/// How long a spool of N events takes to drain: a tracking instance (no consumer) whose broker is down takes N events
/// through /api/v1/events into its spool; then the broker comes back, and the clock runs until the forwarder has had
/// every entry acknowledged by Kafka and truncated the spool to nothing. The broker is a mock cluster hosted in this
/// process, outside the service, as a real broker is, taken down with rd_kafka_mock_broker_set_down.
/// </summary>
internal static class BenchSpool
{
    private const int BatchEvents = 1000;

    public static async Task<SpoolResult> RunAsync(string server, long events, bool keep, Action<string> say, CancellationToken ct)
    {
        await using var db = await BenchDatabase.CreateAsync(server, "spool", keep, ct);
        using var broker = new EmbeddedKafkaCluster();
        broker.CreateTopic("ad_events", 16);
        broker.SetAvailable(false);
        var folder = Path.Combine(Path.GetTempPath(), $"attribution-bench-spool-{Guid.NewGuid():N}");
        using var removeFolder = new DirectoryRemoval(folder);
        var port = ServiceProcess.FreePort();
        await using var app = BenchTrackingHost.Build(port, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = db.ConnectionString,
            ["Kafka:BootstrapServers"] = broker.BootstrapServers,
            ["Kafka:Topic"] = "ad_events",
            ["Kafka:RunConsumer"] = "false",
            ["Lakehouse:WarehousePath"] = Path.Combine(folder, "warehouse"),
            ["Ingest:SpoolPath"] = Path.Combine(folder, "spool"),
            ["Logging:LogLevel:Default"] = "Error",
        });
        await app.StartAsync(ct);

        using var http = BenchIngestKey.Client(new Uri($"http://127.0.0.1:{port}"), new SocketsHttpHandler { MaxConnectionsPerServer = 8 });
        say($"spool: {events:N0} events into the spool of a tracking instance whose Kafka is down");
        var fill = Stopwatch.StartNew();
        var batches = (int)((events + BatchEvents - 1) / BatchEvents);
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            int batch;
            while ((batch = Interlocked.Increment(ref next)) < batches)
            {
                var body = new StringBuilder(BatchEvents * 180);
                for (var i = 0; i < BatchEvents; i++)
                {
                    var n = (long)batch * BatchEvents + i;
                    body.Append("{\"event_id\":\"s").Append(n).Append("\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"i").Append(n)
                        .Append("\",\"campaign_id\":\"c").Append(n % 20).Append("\",\"user_id\":\"u").Append(n % 100_000)
                        .Append("\",\"geo_country\":\"US\",\"platform\":\"IOS\",\"bid_price\":0.5}\n");
                }

                using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson");
                using var response = await http.PostAsync(new Uri("/api/v1/events", UriKind.Relative), content, ct);
                if (!response.IsSuccessStatusCode)
                    throw new InvalidOperationException($"the spool refused a batch: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
        }, ct)));
        fill.Stop();
        var forwarder = app.Services.GetRequiredService<SpoolForwarder>();
        var held = forwarder.State.SpoolBytes;
        say($"spool: {held / 1048576.0:N0} MiB held after {fill.Elapsed.TotalSeconds:N1} s; Kafka back up, draining");

        var drain = Stopwatch.StartNew();
        broker.SetAvailable(true);
        while (forwarder.State.SpoolBytes > 0 || forwarder.State.RecordsForwarded < events)
        {
            if (drain.Elapsed > TimeSpan.FromMinutes(15)) throw new TimeoutException($"the spool did not drain in 15 minutes: {forwarder.State}");
            await Task.Delay(20, ct);
        }

        drain.Stop();
        await app.StopAsync(ct);
        return new SpoolResult(events, held, fill.Elapsed.TotalSeconds, drain.Elapsed.TotalSeconds);
    }
}
