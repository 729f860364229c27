using System.Globalization;
using Attribution.Api.Infrastructure;
using Attribution.Api.Simulation;
using Attribution.Api.Tracking;
using Attribution.Domain.Attribution;
using Attribution.Domain.Tracking;
using Attribution.Projections;
using Attribution.Projections.Gold;
using Attribution.Projections.Replays;

namespace Attribution.Api.Cli;

/// <summary>The CLI verbs of Attribution.Api: `replay`, `whatif` and `simulate` (the default, no verb, is the service).</summary>
public static class CommandLine
{
    private static readonly string[] Verbs = ["replay", "whatif", "simulate", "bench", "help", "--help", "-h"];

    public static bool IsVerb(string[] args) => args.Length > 0 && Verbs.Contains(args[0]);

    public static async Task<int> RunAsync(string[] args)
    {
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        try
        {
            return args[0] switch
            {
                "replay" => await ReplayAsync(args[1..], cts.Token),
                "whatif" => await WhatIfAsync(Options.Parse(args[1..]), cts.Token),
                "simulate" => await SimulateAsync(Options.Parse(args[1..]), cts.Token),
                "bench" => await BenchCommand.RunAsync(args[1..], cts.Token),
                _ => Help(),
            };
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}");
            Help();
            return 2;
        }
    }

    /// <summary>The ingest key scripts/run.sh configures for a local service (Ingest__Keys__dev): for development only.</summary>
    public const string DevelopmentKeyId = "dev";
    public const string DevelopmentSecret = "dev-ingest-secret";

    private static int Help()
    {
        Console.WriteLine("""
            Attribution.Api [verb] [options]
              (no verb)     run the service (ASP.NET Core configuration: ConnectionStrings:Postgres, Kafka:BootstrapServers, ...)
              replay        rebuild Gold and the derived audit outcomes from the events table under the current attribution config
              whatif        fold the stored events under other rules into a shadow Gold of its own (live Gold untouched) and print
                            the diff against live Gold; the replay is kept (GET/DELETE /api/v1/replays/{id})
                --lookback-days D             lookback in days, (0, 366] (default: the attribution config in force)
                --late-threshold-minutes M    late threshold in minutes, [0, 525600] (default: the config in force)
                --from T  --to T              only impressions whose impression time is in [from, to) (ISO-8601 or Unix seconds)
              simulate      send the traffic generator's funnel to a running service
                --url URL             service address (default http://127.0.0.1:5080)
                --count N             stop after N events (default 10000 when neither --count nor --duration is given)
                --rate R              events per second, paced in real time (default: as fast as the service takes them)
                --duration SECONDS    stop generating after this long
                --mode batch|pixel    NDJSON batches to /api/v1/events, or /pixel + /click + /api/v1/conversions (default batch)
                --click-key KEY       signs pixel mode's /click URLs (default: Tracking__ClickSigningKeys__0 from the environment, as scripts/run.sh sets it)
                --seed S  --campaigns C  --users U  --duplicates FRACTION  --concurrency N  --batch-size N
                --fraud-share FRACTION  that share of impressions is fraud: bots, click floods from three addresses,
                                      clicks from another country, conversions seconds after their click (default 0);
                                      every event then carries an ip_address and a user_agent (pixel mode sends them as
                                      the User-Agent and X-Forwarded-For headers, which count from trusted proxies only)
                --key-id ID --key-secret SECRET   the ingest key that signs postbacks and batches (default: the
                                      environment's ATTRIBUTION_INGEST_KEY_ID and ATTRIBUTION_INGEST_SECRET, else the
                                      development key scripts/run.sh configures)
                --admin-key KEY       first sends a profile (bands) for 90 % of the users to /api/v1/users:batch
                                      (default: Admin__ApiKey from the environment, as scripts/run.sh sets it)
                --profiles false      send no profiles
            """);
        return 0;
    }

    private static async Task<int> ReplayAsync(string[] args, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAttributionStore(builder.Configuration);
        using var host = builder.Build();
        await host.Services.GetRequiredService<SchemaInitializer>().StartAsync(ct);
        var rebuilder = host.Services.GetRequiredService<GoldRebuilder>();
        var started = DateTime.UtcNow;
        var progress = new SyncProgress<(long Done, long Total)>(p => DrawBar(p.Done, p.Total, started));
        var (impressions, events) = await rebuilder.RebuildAsync(progress, ct);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"replay: rebuilt {impressions:N0} impressions from {events:N0} events in {(DateTime.UtcNow - started).TotalSeconds:N1} s"));
        return 0;
    }

    private static async Task<int> WhatIfAsync(Options o, CancellationToken ct)
    {
        double? lookback = o.Has("lookback-days") ? o.Double("lookback-days", 0) : null;
        double? late = o.Has("late-threshold-minutes") ? o.Double("late-threshold-minutes", 0) : null;
        if (AttributionPolicy.Check(lookback, late) is { } rulesError) throw new ArgumentException(rulesError);
        if (QueryTime.TryParseRange(o.Has("from") ? o.String("from", "") : null, o.Has("to") ? o.String("to", "") : null, out var from, out var to) is { } rangeError)
            throw new ArgumentException(rangeError);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAttributionStore(builder.Configuration);
        builder.Services.AddWhatIfReplays();
        using var host = builder.Build();
        await host.Services.GetRequiredService<SchemaInitializer>().StartAsync(ct);
        var started = DateTime.UtcNow;
        var progress = new SyncProgress<(long Done, long Total)>(p => DrawBar(p.Done, p.Total, started));
        var run = await host.Services.GetRequiredService<WhatIfReplays>().RunHereAsync(new WhatIfRequest(lookback, late, new ImpressionRange(from, to)), progress, ct);
        Console.WriteLine();
        if (run.Started is not { } replay)
        {
            await Console.Error.WriteLineAsync($"whatif: replay {run.RunningId} is running; one runs at a time");
            return 1;
        }

        if (replay.State != ReplayStates.Completed)
        {
            await Console.Error.WriteLineAsync($"whatif: replay {replay.Id} {replay.State}: {replay.Error}");
            return 1;
        }

        var diff = await host.Services.GetRequiredService<ReplayDiffQuery>().ReadAsync(replay, ct)
                   ?? throw new InvalidOperationException($"the schema of replay {replay.Id} is gone");
        Console.Write(WhatIfSummary.Write(replay, diff, DateTime.UtcNow - started));
        return 0;
    }

    private static void DrawBar(long done, long total, DateTime started)
    {
        const int width = 40;
        var fraction = total == 0 ? 1 : (double)done / total;
        var filled = (int)(fraction * width);
        var rate = done / Math.Max((DateTime.UtcNow - started).TotalSeconds, 0.001);
        Console.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{new string('#', filled)}{new string('-', width - filled)}] {fraction * 100,5:N1}%  {done:N0}/{total:N0} impressions  {rate:N0}/s"));
    }

    private static async Task<int> SimulateAsync(Options o, CancellationToken ct)
    {
        var url = o.String("url", "http://127.0.0.1:5080");
        // Postbacks and batches are signed, as a partner's server signs them; scripts/run.sh configures this key.
        var keyId = o.String("key-id", Environment.GetEnvironmentVariable("ATTRIBUTION_INGEST_KEY_ID") ?? DevelopmentKeyId);
        var secret = o.String("key-secret", Environment.GetEnvironmentVariable("ATTRIBUTION_INGEST_SECRET") ?? DevelopmentSecret);
        using var http = new HttpClient(new IngestSigningHandler(keyId, secret, new SocketsHttpHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 64 }))
        {
            BaseAddress = new Uri(url),
            Timeout = TimeSpan.FromSeconds(60),
        };
        var model = new TrafficModel(new TrafficOptions
        {
            Seed = o.Int("seed", Environment.TickCount & 0xFFFF),
            Campaigns = o.Int("campaigns", 5),
            Users = o.Int("users", 20_000),
            DuplicateRate = o.Double("duplicates", 0),
            FraudShare = o.Double("fraud-share", 0),
        });
        var mode = o.String("mode", "batch") switch
        {
            "batch" => SendMode.Batch,
            "pixel" => SendMode.Pixel,
            var m => throw new ArgumentException($"--mode must be batch or pixel, got {m}"),
        };
        long? count = o.Has("count") ? o.Long("count", 0) : null;
        TimeSpan? duration = o.Has("duration") ? TimeSpan.FromSeconds(o.Double("duration", 0)) : null;
        if (count is null && duration is null) count = 10_000;
        double? rate = o.Has("rate") ? o.Double("rate", 0) : null;
        await WaitForServiceAsync(http, ct);
        var clickKey = o.String("click-key", Environment.GetEnvironmentVariable("Tracking__ClickSigningKeys__0") ?? "");
        var simulator = new TrafficSimulator(http, model, mode, o.Int("batch-size", 500), o.Int("concurrency", 8))
        {
            Progress = line => Console.Write("\r" + line.PadRight(100)),
            ClickSigningKeys = clickKey.Length == 0 ? null : new ClickSigningKeys([clickKey]),
        };
        // The users' profiles first, so the audience analysis has bands for them (the admin key guards dim_users).
        var adminKey = o.String("admin-key", Environment.GetEnvironmentVariable("Admin__ApiKey") ?? "");
        if (adminKey.Length > 0 && o.String("profiles", "true") == "true")
        {
            var profiles = await simulator.SendProfilesAsync(adminKey, 10_000, ct);
            Console.WriteLine($"simulate: {profiles:N0} user profiles sent to /api/v1/users:batch");
        }
        else
        {
            Console.WriteLine("simulate: no user profiles sent (give --admin-key or set Admin__ApiKey; --profiles false skips them)");
        }

        Console.WriteLine($"simulate: seed {model.Options.Seed}, mode {mode}, {(count is null ? "" : $"{count} events ")}{(rate is null ? "as fast as accepted" : $"at {rate}/s")} → {url}");
        var run = await simulator.RunAsync(count, rate, duration, ct);
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"simulate: sent {run.Sent:N0} events in {run.Elapsed.TotalSeconds:N1} s ({run.Sent / Math.Max(run.Elapsed.TotalSeconds, 0.001):N0}/s), {run.Errors:N0} errors"));
        return run.Errors == 0 ? 0 : 1;
    }

    private static async Task WaitForServiceAsync(HttpClient http, CancellationToken ct)
    {
        for (var i = 0; i < 120; i++)
        {
            try
            {
                using var r = await http.GetAsync("/health/ready", ct);
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
                // Not up yet.
            }

            await Task.Delay(500, ct);
        }

        throw new ArgumentException($"the service at {http.BaseAddress} did not become ready within 60 s");
    }

    /// <summary>Reports on the caller's thread, so the progress bar is drawn in order.</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class Options(Dictionary<string, string> values)
    {
        public static Options Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < args.Length; i++)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
                var name = args[i][2..];
                if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value");
                values[name] = args[++i];
            }

            return new Options(values);
        }

        public bool Has(string name) => values.ContainsKey(name);

        public string String(string name, string fallback) => values.GetValueOrDefault(name, fallback);

        public int Int(string name, int fallback) => (int)Long(name, fallback);

        public long Long(string name, long fallback) => !values.TryGetValue(name, out var v) ? fallback
            : long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n
            : throw new ArgumentException($"--{name} must be a non-negative integer, got '{v}'");

        public double Double(string name, double fallback) => !values.TryGetValue(name, out var v) ? fallback
            : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d
            : throw new ArgumentException($"--{name} must be a non-negative number, got '{v}'");
    }
}
