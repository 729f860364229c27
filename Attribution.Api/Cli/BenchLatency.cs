using System.Diagnostics;
using System.Text;
using Attribution.Api.Simulation;
using Attribution.Domain.Events;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;

namespace Attribution.Api.Cli;

internal sealed record LatencyResult(double TargetRate, double AchievedRate, long Events, double P50, double P95, double P99, double Max, long Errors);

/// <summary>
/// Part 3: events sent over HTTP at a steady rate to the service (hosted in this process, wired as in production),
/// and the end-to-end latency of each one (apply commit minus ingest stamp), taken exactly from every value the
/// /metrics histogram observes.
/// </summary>
internal static class BenchLatency
{
    public static async Task<LatencyResult> RunAsync(string server, double rate, int seconds, int batchSize, bool keep, Action<string> say, CancellationToken ct)
    {
        await using var db = await BenchDatabase.CreateAsync(server, "latency", keep, ct);
        var latencies = new Samples();
        var port = ServiceProcess.FreePort();
        // A warehouse of its own, as the service processes of the other parts get: the default one next to the
        // binaries holds an earlier run's marks, which this fresh database has not reached, so its exports refused it.
        var warehouse = Path.Combine(Path.GetTempPath(), $"attribution-bench-warehouse-{Guid.NewGuid():N}");
        using var removeWarehouse = new DirectoryRemoval(warehouse);
        await using var app = BenchTrackingHost.Build(port, new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = db.ConnectionString,
            ["Kafka:BootstrapServers"] = KafkaOptions.Embedded,
            ["Kafka:ConsumerGroup"] = "bench",
            ["Lakehouse:WarehousePath"] = warehouse,
            ["Ingest:SpoolPath"] = Path.Combine(warehouse, "spool"),
            ["Logging:LogLevel:Default"] = "Warning",
        });
        app.Services.GetRequiredService<PipelineMetrics>().EndToEndObserved = latencies.Add;
        await app.StartAsync(ct);

        using var http = BenchIngestKey.Client(new Uri($"http://127.0.0.1:{port}"), new SocketsHttpHandler { MaxConnectionsPerServer = 32 });
        while (app.Services.GetRequiredService<ConsumerState>().Assigned.Length == 0) await Task.Delay(50, ct);

        var model = new TrafficModel(new TrafficOptions { Seed = 11, Campaigns = 20, Users = 100_000 });
        say($"latency: warming up for 5 s at {rate:N0} events/s");
        latencies.Record(false);
        await SendAsync(http, model, rate, 5, batchSize, ct);
        await DrainAsync(app.Services, ct);
        latencies.Record(true);

        say($"latency: {seconds} s at {rate:N0} events/s in batches of {batchSize}");
        var (sent, errors, elapsed) = await SendAsync(http, model, rate, seconds, batchSize, ct);
        await DrainAsync(app.Services, ct);
        var values = latencies.Sorted();
        await app.StopAsync(ct);
        return new LatencyResult(rate, sent / elapsed, values.Count,
            Samples.Percentile(values, 0.50), Samples.Percentile(values, 0.95), Samples.Percentile(values, 0.99),
            values.Count > 0 ? values[^1] : double.NaN, errors);
    }

    /// <summary>Sends the funnel's events as NDJSON batches on a fixed schedule (not as fast as possible): a batch
    /// that comes back late does not delay the next one, so the offered rate stays the target rate.</summary>
    private static async Task<(long Sent, long Errors, double Seconds)> SendAsync(HttpClient http, TrafficModel model, double rate, int seconds, int batchSize, CancellationToken ct)
    {
        var interval = TimeSpan.FromSeconds(batchSize / rate);
        var sw = Stopwatch.StartNew();
        var inFlight = new List<Task<bool>>();
        var pending = new Queue<string>();
        long sent = 0, errors = 0, batches = 0;
        while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var due = interval * batches;
            if (due > sw.Elapsed) await Task.Delay(due - sw.Elapsed, ct);
            while (pending.Count < batchSize)
            {
                foreach (var e in model.Funnel(EventParser.ToMicroseconds(DateTime.UtcNow)))
                {
                    e.Payload.Remove(EventFields.EventTimestamp); // stamped on receipt, like a pixel
                    pending.Enqueue(e.Payload.ToJsonString());
                }
            }

            var body = new StringBuilder();
            for (var i = 0; i < batchSize; i++) body.Append(pending.Dequeue()).Append('\n');
            inFlight.Add(PostAsync(http, body.ToString(), ct));
            sent += batchSize;
            batches++;
            for (var i = inFlight.Count - 1; i >= 0; i--)
            {
                if (!inFlight[i].IsCompleted) continue;
                if (!await inFlight[i]) errors++;
                inFlight.RemoveAt(i);
            }
        }

        foreach (var t in inFlight)
            if (!await t) errors++;
        return (sent, errors, sw.Elapsed.TotalSeconds);
    }

    private static async Task<bool> PostAsync(HttpClient http, string body, CancellationToken ct)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/x-ndjson");
        using var response = await http.PostAsync(new Uri("/api/v1/events", UriKind.Relative), content, ct);
        return response.IsSuccessStatusCode;
    }

    private static async Task DrainAsync(IServiceProvider services, CancellationToken ct)
    {
        var reader = services.GetRequiredService<PipelineStatusReader>();
        var deadline = DateTime.UtcNow.AddMinutes(5);
        while (DateTime.UtcNow < deadline)
        {
            var status = await reader.ReadAsync(ct);
            if (status.Lag == 0) return;
            await Task.Delay(100, ct);
        }

        throw new TimeoutException("the pipeline did not drain within 5 minutes");
    }
}
