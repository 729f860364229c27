using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Attribution.Api.Simulation;
using Attribution.Domain.Events;
using Attribution.Projections.Pipeline;

namespace Attribution.Api.Cli;

internal sealed record SoakResult(
    double WarmupMinutes, double Minutes, double Rate, long Sent, long Errors, long Applied, long Lost,
    long RssAfterFirstMinute, long RssAtEnd, long PeakRss, double SlopeMiBPerMinute,
    IReadOnlyList<(long Floor, long Top)> RssPerMinute, double FloorSlopeMiBPerMinute,
    IReadOnlyList<long> OutsideGcPerMinute, double OutsideGcSlopeMiBPerMinute);

/// <summary>
/// Part 5: the whole service (its own process, consumer included) under a steady load for a while, its resident
/// memory sampled every second: the peak, and whether it keeps growing once warm.
/// </summary>
internal static class BenchSoak
{
    // The warm-up is load at the same rate before the measured window, not judged: code that only the
    // once-a-minute jobs run needs their runs to tier up, and the JIT's code grew ~14 MiB over the first nine
    // minutes of a soak before levelling off (S21, docs/BENCHMARKS.md).
    public static async Task<SoakResult> RunAsync(string server, double warmupMinutes, double minutes, double rate, bool keep, Action<string> say, CancellationToken ct)
    {
        await using var db = await BenchDatabase.CreateAsync(server, "soak", keep, ct);
        // The broker lives in the bench's process, as Kafka lives outside the service in production: inside the
        // service, the mock cluster's retained log (~5 MiB of compressed batches per partition) filled the first
        // minutes of every soak and was counted as the service's growth.
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("ad_events", 16);
        await using var service = await ServiceProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
        {
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topic"] = "ad_events",
            // Compaction is hourly in service; every 3 minutes here, so each soak carries every job the service runs.
            ["Jobs:Schedules:compact"] = "*/3 * * * *",
        }, "/health/ready", ct);
        using var http = BenchIngestKey.Client(service.Url, new SocketsHttpHandler { MaxConnectionsPerServer = 32, AllowAutoRedirect = false });
        var model = new TrafficModel(new TrafficOptions { Seed = 13, Campaigns = 20, Users = 100_000 });
        const int batchSize = 100;
        // Nine events in ten as batches, one in ten as pixels: both request paths stay in use for the whole soak.
        var interval = TimeSpan.FromSeconds(batchSize / (rate * 0.9));
        var pixelInterval = TimeSpan.FromSeconds(1 / (rate * 0.1));
        var warmup = TimeSpan.FromMinutes(warmupMinutes);
        var duration = warmup + TimeSpan.FromMinutes(minutes);
        var samples = new List<(double Minute, long Rss)>();
        long sent = 0, errors = 0, batches = 0, pixels = 0;
        var inFlight = new List<Task<bool>>();
        var sw = Stopwatch.StartNew();
        var nextSample = warmup;
        var pixelId = 0L;
        say($"soak: {warmupMinutes:N1} min of warm-up, then {minutes:N1} min measured, at {rate:N0} events/s (pid {service.Pid})");
        // The resident set less what the GC has committed, every 10 s: the memory a native leak (or an allocator that
        // keeps freed pages) would lift, apart from the GC heap's own sizing, which moves the RSS floor by tens of MiB.
        using var stopSplit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var split = SampleOutsideGcAsync(http, service, sw, warmup, stopSplit.Token);
        while (sw.Elapsed < duration)
        {
            if (sw.Elapsed >= nextSample)
            {
                samples.Add(((sw.Elapsed - warmup).TotalMinutes, service.Memory().Rss));
                // Every second: an export's spike lasts about as long, so sparser samples made the trend a lottery.
                nextSample += TimeSpan.FromSeconds(1);
                if (samples.Count % 60 == 0) say($"soak: {samples[^1].Minute:N1} of {minutes:N1} measured min, RSS {samples[^1].Rss / 1048576.0:N0} MiB, sent {sent:N0}");
            }

            var nextBatch = interval * batches;
            var nextPixel = pixelInterval * pixels;
            var due = nextBatch < nextPixel ? nextBatch : nextPixel;
            if (due > sw.Elapsed) await Task.Delay(due - sw.Elapsed, ct);
            if (nextBatch <= nextPixel)
            {
                var body = new StringBuilder();
                var n = 0;
                while (n < batchSize)
                {
                    foreach (var e in model.Funnel(EventParser.ToMicroseconds(DateTime.UtcNow)))
                    {
                        e.Payload.Remove(EventFields.EventTimestamp);
                        body.Append(e.Payload.ToJsonString()).Append('\n');
                        n++;
                    }
                }

                inFlight.Add(Send(http.PostAsync(new Uri("/api/v1/events", UriKind.Relative), new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"), ct)));
                sent += n;
                batches++;
            }
            else
            {
                inFlight.Add(Send(http.GetAsync(new Uri($"/pixel?impression_id=soak-px-{pixelId++}&campaign_id=camp-03&bid_price=0.8", UriKind.Relative), ct)));
                sent++;
                pixels++;
            }

            if (inFlight.Count > 64)
            {
                for (var i = inFlight.Count - 1; i >= 0; i--)
                {
                    if (!inFlight[i].IsCompleted) continue;
                    if (!await inFlight[i]) errors++;
                    inFlight.RemoveAt(i);
                }
            }
        }

        foreach (var t in inFlight)
            if (!await t) errors++;
        await stopSplit.CancelAsync();
        var outsideGc = await split;

        // Let the consumer finish, then read what it applied and whether anything was lost.
        long applied = 0, lost = 0;
        for (var i = 0; i < 600; i++)
        {
            var status = await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/pipeline/status", UriKind.Relative), ct);
            applied = status.GetProperty("events_applied").GetInt64();
            lost = status.GetProperty("lost_messages").GetInt64();
            if (status.GetProperty("lag").GetInt64() == 0) break;
            await Task.Delay(500, ct);
        }

        var (rss, peak) = service.Memory();
        samples.Add(((sw.Elapsed - warmup).TotalMinutes, rss));
        var warm = samples.Where(s => s.Minute >= (warmupMinutes > 0 ? 0 : Math.Min(1, minutes / 2))).ToList();
        // Each whole minute's lowest and highest sample. The floor is where the process returns between jobs: a leak
        // lifts it, while a job's spike (a compaction every 3 minutes, one of them near the end of the window)
        // tilts a fit through every sample without anything having grown.
        var perMinute = samples.Where(s => s.Minute < Math.Floor(minutes)).GroupBy(s => (int)s.Minute).OrderBy(g => g.Key)
            .Select(g => (Minute: g.Key, Floor: g.Min(s => s.Rss), Top: g.Max(s => s.Rss))).ToList();
        var floors = perMinute.Where(m => m.Minute >= minutes / 2).Select(m => (m.Minute + 0.5, m.Floor)).ToList();
        return new SoakResult(warmupMinutes, minutes, rate, sent, errors, applied, lost,
            warm.Count > 0 ? warm[0].Rss : rss, rss, peak, Slope(warm.Where(s => s.Minute >= minutes / 2).ToList()),
            perMinute.Select(m => (m.Floor, m.Top)).ToList(), Slope(floors),
            outsideGc.GroupBy(o => (int)o.Minute).OrderBy(g => g.Key).Select(g => (long)g.Average(o => o.Rss)).ToList(),
            Slope(outsideGc.Where(o => o.Minute >= minutes / 2).ToList()));
    }

    private static async Task<List<(double Minute, long Rss)>> SampleOutsideGcAsync(HttpClient http, ServiceProcess service, Stopwatch sw, TimeSpan warmup, CancellationToken ct)
    {
        var points = new List<(double Minute, long Rss)>();
        try
        {
            while (true)
            {
                await Task.Delay(TimeSpan.FromSeconds(10), ct);
                var metrics = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct);
                var rss = service.Memory().Rss;
                if (sw.Elapsed >= warmup && GcCommitted(metrics) is { } committed) points.Add(((sw.Elapsed - warmup).TotalMinutes, rss - committed));
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return points;
        }
    }

    private static long? GcCommitted(string metrics)
    {
        const string Name = "system_runtime_dotnet_gc_last_collection_memory_committed_size ";
        foreach (var line in metrics.AsSpan().EnumerateLines())
        {
            if (line.StartsWith(Name, StringComparison.Ordinal)
                && double.TryParse(line[Name.Length..], System.Globalization.CultureInfo.InvariantCulture, out var bytes))
                return (long)bytes;
        }

        return null;
    }

    private static async Task<bool> Send(Task<HttpResponseMessage> request)
    {
        try
        {
            using var response = await request;
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>Least-squares slope of (minute, bytes) points, in MiB per minute.</summary>
    private static double Slope(List<(double Minute, long Rss)> points)
    {
        if (points.Count < 2) return 0;
        var mx = points.Average(p => p.Minute);
        var my = points.Average(p => p.Rss / 1048576.0);
        var num = points.Sum(p => (p.Minute - mx) * (p.Rss / 1048576.0 - my));
        var den = points.Sum(p => (p.Minute - mx) * (p.Minute - mx));
        return den == 0 ? 0 : num / den;
    }
}
