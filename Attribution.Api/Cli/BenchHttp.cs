using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Attribution.Domain.Security;

namespace Attribution.Api.Cli;

internal sealed record WrkResult(string Name, double RequestsPerSecond, double EventsPerRequest, double P50Ms, double P99Ms, long Errors)
{
    public double EventsPerSecond => RequestsPerSecond * EventsPerRequest;
}

/// <summary>Bare and /pixel measured in alternating rounds; Bare and Pixel are the round of the median ratio.</summary>
internal sealed record HttpResult(IReadOnlyList<(WrkResult Bare, WrkResult Pixel)> Rounds, WrkResult Batch, string Tool)
{
    private IReadOnlyList<(WrkResult Bare, WrkResult Pixel)> ByRatio => [.. Rounds.OrderBy(r => Ratio(r))];

    public WrkResult Bare => ByRatio[Rounds.Count / 2].Bare;
    public WrkResult Pixel => ByRatio[Rounds.Count / 2].Pixel;
    public double PixelToBare => Ratio(ByRatio[Rounds.Count / 2]);
    public double LowestPixelToBare => Ratio(ByRatio[0]);
    public double HighestPixelToBare => Ratio(ByRatio[^1]);

    private static double Ratio((WrkResult Bare, WrkResult Pixel) round) => round.Pixel.RequestsPerSecond / round.Bare.RequestsPerSecond;
}

/// <summary>
/// Part 2: requests per second of /pixel and of /api/v1/events batches, and of a bare endpoint serving the same GIF
/// without validation or Kafka, all against one service process, measured with wrk (Debian's package).
/// </summary>
internal static partial class BenchHttp
{
    public const int BatchEvents = 100;

    public static async Task<HttpResult> RunAsync(string server, int seconds, int rounds, int threads, int connections, bool keep, Action<string> say, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(Machine.Run("which", "wrk").Trim()))
            throw new InvalidOperationException("wrk is not installed: apt-get install -y wrk (scripts/bench.sh does)");
        await using var db = await BenchDatabase.CreateAsync(server, "http", keep, ct);
        // A tracking-tier instance (no consumer), as they scale out behind a load balancer: what is measured is the
        // request path, not the consumer competing for the same two cores.
        await using var service = await ServiceProcess.StartAsync(db.ConnectionString, new Dictionary<string, string>
        {
            ["Kafka:BootstrapServers"] = "embedded",
            ["Kafka:RunConsumer"] = "false",
            ["Bench:BareEndpoint"] = "true",
        }, "/health/ready", ct);
        var dir = Directory.CreateTempSubdirectory("attribution-bench-wrk").FullName;
        try
        {
            var query = "&campaign_id=camp-01&creative_id=camp-01-cr-1&user_id=u-000001&geo_country=US&platform=IOS&bid_price=1.25";
            var bare = Script(dir, "bare", $"""
                request = function()
                  counter = counter + 1
                  return wrk.format("GET", "{BenchEndpoints.BarePixelPath}?impression_id=b-" .. tid .. "-" .. counter .. "{query}")
                end
                """);
            var pixel = Script(dir, "pixel", $"""
                request = function()
                  counter = counter + 1
                  return wrk.format("GET", "/pixel?impression_id=b-" .. tid .. "-" .. counter .. "{query}")
                end
                """);
            var body = new StringBuilder();
            for (var i = 0; i < BatchEvents; i++)
            {
                body.Append(CultureInfo.InvariantCulture,
                    $"{{\"event_type\":\"IMPRESSION\",\"impression_id\":\"bb-{i}\",\"campaign_id\":\"camp-0{i % 5 + 1}\",\"creative_id\":\"cr-1\",\"user_id\":\"u-{i:D6}\",\"geo_country\":\"US\",\"platform\":\"WEB\",\"bid_price\":1.1}}\\n");
            }

            var batch = Script(dir, "batch", $"""
                wrk.path = "/api/v1/events"
                wrk.method = "POST"
                wrk.headers["Content-Type"] = "application/x-ndjson"
                wrk.headers["{IngestSignature.KeyIdHeader}"] = "{BenchIngestKey.KeyId}"
                wrk.headers["{IngestSignature.SignatureHeader}"] = "{BenchIngestKey.SignatureFor(body.ToString().Replace("\\n", "\n", StringComparison.Ordinal))}"
                wrk.body = "{body.ToString().Replace("\"", "\\\"", StringComparison.Ordinal)}"
                """);

            say("http: warming up (JIT, connection pools, Kafka producer)");
            foreach (var s in new[] { bare, pixel, batch }) await WrkAsync(service.Url, s, 3, threads, connections, ct);
            // Alternating rounds: on a shared machine the speed drifts by tens of percent within a minute, and one run
            // of each, one after the other, measured the drift as much as the endpoints (2026-12-04: 41-64 % for one build).
            say($"http: {rounds} rounds of bare then /pixel, {seconds} s each, with wrk -t{threads} -c{connections}");
            var pairs = new List<(WrkResult, WrkResult)>();
            for (var i = 0; i < rounds; i++)
            {
                var bareResult = await WrkAsync(service.Url, bare, seconds, threads, connections, ct) with { Name = "bare GIF (no Kafka)" };
                var pixelResult = await WrkAsync(service.Url, pixel, seconds, threads, connections, ct) with { Name = "/pixel" };
                pairs.Add((bareResult, pixelResult));
            }

            var batchResult = await WrkAsync(service.Url, batch, seconds, threads, connections, ct) with { Name = $"/api/v1/events ({BatchEvents}/request)", EventsPerRequest = BatchEvents };
            return new HttpResult(pairs, batchResult, $"wrk -t{threads} -c{connections} -d{seconds}s, {rounds} alternating rounds");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Script(string dir, string name, string body)
    {
        var path = Path.Combine(dir, name + ".lua");
        File.WriteAllText(path, """
            counter = 0
            tid = 0
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("tid", threads)
            end

            """ + body + "\n");
        return path;
    }

    private static async Task<WrkResult> WrkAsync(Uri url, string script, int seconds, int threads, int connections, CancellationToken ct)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("wrk")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { $"-t{threads}", $"-c{connections}", $"-d{seconds}s", "--latency", "-s", script, url.ToString().TrimEnd('/') })
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var rps = Number(RequestsPerSec().Match(output), output);
        var errors = 0L;
        if (NonSuccess().Match(output) is { Success: true } m) errors += long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        if (SocketErrors().Match(output) is { Success: true } s)
            errors += s.Groups.Cast<Group>().Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture));
        return new WrkResult(Path.GetFileNameWithoutExtension(script), rps, 1, Millis(output, "50%"), Millis(output, "99%"), errors);
    }

    private static double Number(Match m, string output) => m.Success
        ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
        : throw new InvalidOperationException("unexpected wrk output:\n" + output);

    private static double Millis(string output, string percentile)
    {
        var m = Regex.Match(output, $@"^\s*{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)\s*$", RegexOptions.Multiline);
        if (!m.Success) return double.NaN;
        var v = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "us" => v / 1000, "s" => v * 1000, _ => v };
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSec();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrors();
}
