using System.Globalization;
using System.Text;

namespace Attribution.Api.Cli;

/// <summary>
/// The bench verb: pipeline throughput against the PostgreSQL ceiling, HTTP ingest against a bare endpoint,
/// end-to-end latency at a steady rate, metrics queries over a large Gold table, and memory over a soak. Prints a
/// markdown report (and writes it to --report FILE).
/// </summary>
public static class BenchCommand
{
    private static readonly string[] AllParts = ["pipeline", "http", "latency", "spool", "queries", "audience", "soak", "lakehouse"];

    public const string Usage = """
        Attribution.Api bench [options]       measures this machine; see docs/BENCHMARKS.md
          --events N            pipeline events (default 1000000)
          --warmup E            pipeline events applied before the clock starts (default N/10, at most 50000)
          --partitions P        embedded Kafka partitions for the pipeline run (default 64)
          --window W            most messages produced ahead of the consumer (default 200000; keeps the embedded
                                broker's ~5 MiB/partition retention from dropping any)
          --batch-size B        consumer batch size for the pipeline run (default: the service's Kafka:MaxBatchSize)
          --consumers K         service instances in the consumer group for the pipeline run (default: one per
                                core; one instance alternates between its own work and waiting for PostgreSQL)
          --http-seconds S      wrk run per endpoint and round (default 6)  --http-rounds N (7)     --wrk-threads T (2)  --wrk-connections C (64)
          --latency-rate R      events/s for the latency run (default 5000)   --latency-seconds S (default 30)
          --spool-events N      events spooled while Kafka is down, then drained (default 1000000)
          --query-impressions M Gold rows for the metrics queries (default 10000000)  --query-runs K (default 50)
          --audience-impressions M  Gold rows for the audience queries (default 10000000)
          --audience-users U    dim_users users for the audience queries (default 1000000)  --audience-runs K (default 30)
          --soak-minutes X      soak length (default 10)              --soak-rate R events/s (default 2000)
          --soak-warmup X       minutes of load before the soak's measured window (default 5)
          --lakehouse-rows N    Bronze and Gold rows written, then Bronze compacted (default 1000000); service
                                settings apply as --Lakehouse:Compression Snappy, --Lakehouse:CompressionLevel 1
          --only LIST           comma-separated parts: pipeline,http,latency,spool,queries,audience,soak,lakehouse
                                (default all)
          --pg CONNSTRING       PostgreSQL server (default Host=127.0.0.1;Port=55432;Username=postgres)
          --report FILE         also write the markdown report to FILE
          --keep-databases true keep the bench_* databases for inspection
        """;

    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        if (args.Length > 0 && args[0] is "--help" or "-h")
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var o = BenchOptions.Parse(args);
        var parts = o.String("only", string.Join(",", AllParts)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Except(AllParts).FirstOrDefault() is { } unknown) throw new ArgumentException($"unknown part '{unknown}' in --only");
        var server = o.String("pg", Environment.GetEnvironmentVariable("ATTRIBUTION_BENCH_PG") ?? "Host=127.0.0.1;Port=55432;Username=postgres");
        var keep = o.String("keep-databases", "false") == "true";
        var loadBefore = Machine.LoadAverage();
        var started = DateTime.UtcNow;
        void Say(string line) => Console.Error.WriteLine($"[{DateTime.UtcNow - started:hh\\:mm\\:ss}] {line}");

        PipelineResult? pipeline = null;
        HttpResult? http = null;
        LatencyResult? latency = null;
        SpoolResult? spool = null;
        QueriesResult? queries = null;
        AudienceResult? audience = null;
        SoakResult? soak = null;
        LakehouseResult? lakehouse = null;
        if (parts.Contains("pipeline"))
            pipeline = await BenchPipeline.RunAsync(server, o.Long("events", 1_000_000),
                o.Names.Contains("warmup") ? o.Long("warmup", 0) : Math.Min(o.Long("events", 1_000_000) / 10, 50_000), o.Int("partitions", 64), o.Int("window", 200_000),
                o.Names.Contains("batch-size") ? o.Int("batch-size", 5000) : null, o.Int("consumers", Environment.ProcessorCount), keep, Say, ct);
        if (parts.Contains("http"))
            http = await BenchHttp.RunAsync(server, o.Int("http-seconds", 6), o.Int("http-rounds", 7), o.Int("wrk-threads", 2), o.Int("wrk-connections", 64), keep, Say, ct);
        if (parts.Contains("latency"))
            latency = await BenchLatency.RunAsync(server, o.Double("latency-rate", 5000), o.Int("latency-seconds", 30), 50, keep, Say, ct);
        if (parts.Contains("spool"))
            spool = await BenchSpool.RunAsync(server, o.Long("spool-events", 1_000_000), keep, Say, ct);
        if (parts.Contains("queries"))
            queries = await BenchQueries.RunAsync(server, o.Long("query-impressions", 10_000_000), o.Int("query-runs", 50), keep, Say, ct);
        if (parts.Contains("audience"))
            audience = await BenchAudience.RunAsync(server, o.Long("audience-impressions", 10_000_000), o.Int("audience-users", 1_000_000),
                o.Int("audience-runs", 30), keep, Say, ct);
        if (parts.Contains("soak"))
            soak = await BenchSoak.RunAsync(server, o.Double("soak-warmup", 5), o.Double("soak-minutes", 10), o.Double("soak-rate", 2000), keep, Say, ct);

        if (parts.Contains("lakehouse"))
            lakehouse = BenchLakehouse.Run(o.Long("lakehouse-rows", 1_000_000),
                o.Names.Where(n => n.StartsWith("Lakehouse:", StringComparison.Ordinal)).ToDictionary(n => n["Lakehouse:".Length..], n => (string?)o.String(n, "")), Say);

        var report = Report(args, started, loadBefore, Machine.LoadAverage(), pipeline, http, latency, spool, queries, audience, soak, lakehouse);
        Console.WriteLine(report);
        if (o.String("report", "") is { Length: > 0 } file) await File.WriteAllTextAsync(file, report, ct);
        return pipeline is { Valid: false } ? 1 : 0;
    }

    private static string Report(string[] args, DateTime started, string loadBefore, string loadAfter,
        PipelineResult? p, HttpResult? h, LatencyResult? l, SpoolResult? sp, QueriesResult? q, AudienceResult? a, SoakResult? s, LakehouseResult? lh)
    {
        var r = new StringBuilder();
        void Line(FormattableString f) => r.AppendLine(f.ToString(CultureInfo.InvariantCulture));
        static string Mark(bool ok) => ok ? "met" : "**missed**";
        Line($"## Benchmark, {started:yyyy-MM-dd HH:mm} UTC");
        Line($"");
        Line($"- machine: {Environment.ProcessorCount} cores ({Machine.CpuModel()}), {Memory()} RAM; .NET {Environment.Version}; PostgreSQL on the same machine");
        Line($"- load average before / after: {loadBefore} / {loadAfter}");
        Line($"- command: `Attribution.Api bench {string.Join(' ', args)}`");
        Line($"");
        Line($"| # | measure | result | reference | ratio / target |");
        Line($"|---|---|---|---|---|");
        if (p is not null)
        {
            Line($"| 1 | pipeline Kafka → event store + Gold{(p.Rollups == "none yet" ? "" : " + " + p.Rollups)}, {p.Events:N0} events ({p.Impressions:N0} impressions), {p.Partitions} partitions, {p.Consumers} consumer instance(s) | **{p.EventsPerSecond:N0} events/s** ({p.Events - p.WarmupEvents:N0} events in {p.Seconds:N1} s after {p.WarmupEvents:N0} warm-up events; cold, warm-up included: {p.ColdEventsPerSecond:N0} events/s = {p.ColdEventsPerSecond / p.CeilingEventsPerSecond:P0}) | PostgreSQL ceiling in Marten's schema {p.CeilingEventsPerSecond:N0} events/s (COPY of the mt_streams rows {p.Ceiling.StreamsCopySeconds:N1} s + of the mt_events rows with Marten's foreign key {p.Ceiling.EventsCopySeconds:N1} s + Gold INSERT {p.Ceiling.GoldInsertSeconds:N1} s); the events alone without streams or key (the ceiling before 2026-12-05): {p.Ceiling.PlainEventsPerSecond:N0} events/s (COPY {p.Ceiling.PlainEventsCopySeconds:N1} s) | {p.Ratio:P0} (≥ 50 %, issue 20: {Mark(p.Ratio >= 0.5)}); {p.EventsPerSecond / p.Ceiling.PlainEventsPerSecond:P0} of the former ceiling |");
            Line($"|   | run valid: lost_messages = {p.Lost}, every event in Gold = {p.EveryEventInGold} | {(p.Valid ? "valid" : "**INVALID**")} | most produced ahead of the consumer: {p.PeakLagMessages:N0} | CPU of the bench process (consumer + producer): {p.ProcessCpuMicrosPerEvent:N0} µs/event; all cores busy {p.MachineBusy:P0} |");
        }

        if (h is not null)
        {
            Line($"| 2 | HTTP {h.Bare.Name} | {h.Bare.RequestsPerSecond:N0} req/s (p50 {h.Bare.P50Ms:N2} ms, p99 {h.Bare.P99Ms:N2} ms) | {h.Tool} | errors {h.Rounds.Sum(r => r.Bare.Errors)} |");
            Line($"|   | HTTP /pixel | **{h.Pixel.RequestsPerSecond:N0} req/s** (p50 {h.Pixel.P50Ms:N2} ms, p99 {h.Pixel.P99Ms:N2} ms) | bare {h.Bare.RequestsPerSecond:N0} req/s | {h.PixelToBare:P0} of bare, the median of {h.Rounds.Count} alternating rounds (lowest {h.LowestPixelToBare:P0}, highest {h.HighestPixelToBare:P0}; ≥ 50 %: {Mark(h.PixelToBare >= 0.5)}); errors {h.Rounds.Sum(r => r.Pixel.Errors)} |");
            Line($"|   | HTTP {h.Batch.Name} | **{h.Batch.RequestsPerSecond:N0} req/s = {h.Batch.EventsPerSecond:N0} events/s** (p50 {h.Batch.P50Ms:N2} ms, p99 {h.Batch.P99Ms:N2} ms) | | errors {h.Batch.Errors} |");
        }

        if (l is not null)
        {
            Line($"| 3 | end-to-end latency (ingest stamp → Gold commit) at {l.AchievedRate:N0} events/s over HTTP, {l.Events:N0} events | **p50 {l.P50 * 1000:N0} ms, p95 {l.P95 * 1000:N0} ms, p99 {l.P99 * 1000:N0} ms** (max {l.Max * 1000:N0} ms) | target rate {l.TargetRate:N0}/s | p99 < 1 s: {Mark(l.P99 < 1)}; errors {l.Errors} |");
        }

        if (sp is not null)
        {
            Line($"| 3 | spool drain: {sp.Events:N0} events ({sp.SpoolBytes / 1048576.0:N0} MiB) spooled while Kafka was down, then forwarded until Kafka acknowledged all | **{sp.DrainSeconds:N1} s = {sp.DrainEventsPerSecond:N0} events/s** | filled through /api/v1/events in {sp.FillSeconds:N1} s ({sp.FillEventsPerSecond:N0} events/s) | |");
        }

        if (q is not null)
        {
            foreach (var x in q.Queries)
                Line($"| 4 | `{x.Path.Split('?')[0]}`: {x.Name} over {q.Impressions:N0} impressions ({x.Rows} rows) | **p50 {x.P50Ms:N1} ms, p95 {x.P95Ms:N1} ms** | {x.Runs} runs after 2 warm-ups | p95 < 50 ms: {Mark(x.P95Ms < 50)} |");
            Line($"|   | (Gold rows loaded with binary COPY + index build in {q.LoadSeconds:N0} s) | | | |");
        }

        if (a is not null)
        {
            foreach (var x in a.Queries)
                Line($"| 4 | `/api/v1/audience`: {x.Name} over {a.Impressions:N0} impressions and {a.Users:N0} users ({x.Rows} groups) | **p50 {x.P50Ms:N1} ms, p95 {x.P95Ms:N1} ms** | {x.Runs} runs after 2 warm-ups | {(x.Targeted ? $"p95 < 500 ms: {Mark(x.P95Ms < 500)}" : "no target: what a long range read row by row costs")} |");
            Line($"|   | (Gold loaded with binary COPY + index build in {a.GoldLoadSeconds:N0} s; {a.Versions:N0} dim_users versions in {a.UsersLoadSeconds:N0} s; audience cube of {a.Cube.Days} days, {a.Cube.Cells:N0} cells, built in {a.Cube.Took.TotalSeconds:N0} s) | | | |");
        }

        if (s is not null)
        {
            var minutes = string.Join(", ", s.RssPerMinute.Select(m => $"{m.Floor / 1048576.0:N0}-{m.Top / 1048576.0:N0}"));
            Line($"| 5 | soak {s.Minutes:N1} min at {s.Rate:N0} events/s after {s.WarmupMinutes:N1} min of warm-up ({s.Sent:N0} sent, {s.Applied:N0} applied, lost {s.Lost}, errors {s.Errors}) | **peak working set {s.PeakRss / 1048576.0:N0} MiB** (warm-up included) | RSS once warm {s.RssAfterFirstMinute / 1048576.0:N0} MiB, at end {s.RssAtEnd / 1048576.0:N0} MiB; per minute, lowest-highest: {minutes} MiB | trend of the per-minute floor over the 2nd half {s.FloorSlopeMiBPerMinute:+0.0;-0.0} MiB/min (flat, < +2 MiB/min: {Mark(s.FloorSlopeMiBPerMinute < 2)}); fit through every sample {s.SlopeMiBPerMinute:+0.0;-0.0} MiB/min; outside the GC heap (RSS − GC committed, every 10 s), per minute: {string.Join(", ", s.OutsideGcPerMinute.Select(b => (b / 1048576.0).ToString("N0", CultureInfo.InvariantCulture)))} MiB, trend over the 2nd half {s.OutsideGcSlopeMiBPerMinute:+0.0;-0.0} MiB/min |");
        }

        if (lh is not null)
        {
            foreach (var x in lh.Steps)
                Line($"| 6 | lakehouse: {x.Name}, {x.Rows:N0} rows ({lh.Codec}) | **{x.RowsPerSecond:N0} rows/s** ({x.Seconds:N2} s; {x.RowsPerCpuSecond:N0} rows per CPU second) | live data files {x.FilesBefore} → {x.FilesAfter}, {x.BytesBefore / 1048576.0:N1} → {x.BytesAfter / 1048576.0:N1} MiB | |");
        }

        return r.ToString();
    }

    private static string Memory()
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
        return line is null ? "?" : string.Create(CultureInfo.InvariantCulture,
            $"{long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1048576.0:N1} GiB");
    }
}
