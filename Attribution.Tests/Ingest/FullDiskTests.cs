using System.Diagnostics;
using System.Net;
using System.Text;
using Attribution.Projections.Ingest;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attribution.Tests.Ingest;

/// <summary>
/// A disk that fills up under the spool: no append is acknowledged that the disk did not take, every append that was
/// acknowledged reads back after a restart, and the restarted spool takes appends again. The disk is a small tmpfs mounted for
/// the test (which needs root, as scripts/test.sh runs).
/// </summary>
public sealed class FullDiskTests : IDisposable
{
    private readonly DirectoryInfo _mount = Directory.CreateTempSubdirectory("spool-full-disk-");
    private bool _mounted;

    public FullDiskTests()
    {
        Assert.True(Environment.IsPrivilegedProcess, "This test mounts a small tmpfs to fill up: run the suite as root (scripts/test.sh does on CI).");
        Run("mount", $"-t tmpfs -o size=8m tmpfs {_mount.FullName}");
        _mounted = true;
    }

    public void Dispose()
    {
        if (_mounted) Run("umount", _mount.FullName);
        _mount.Delete(recursive: true);
    }

    [Fact]
    public async Task A_full_disk_refuses_appends_instead_of_acknowledging_them_and_after_a_restart_every_acknowledged_append_is_there()
    {
        var path = Path.Combine(_mount.FullName, "spool");
        // Ballast: the disk is nearly full before the spool starts, and deleting it makes room again.
        var ballast = Path.Combine(_mount.FullName, "ballast");
        await File.WriteAllBytesAsync(ballast, new byte[5 << 20]);
        var acknowledged = new List<string>();
        await using (var spool = EventSpool.Open(path, 1L << 30, NullLogger.Instance))
        {
            var refused = await FillAsync(spool, acknowledged, "before");
            Assert.Contains("disk", refused.Message, StringComparison.OrdinalIgnoreCase);
            Assert.NotEmpty(acknowledged);
            // FasterLog refuses every commit after a failed one: the spool says so (the liveness check reads it) and
            // keeps refusing, even with room again, rather than acknowledging what it cannot commit.
            Assert.NotNull(spool.FailedBecause);
            File.Delete(ballast);
            var again = await Assert.ThrowsAsync<SpoolUnavailableException>(() =>
                spool.AppendAsync([new SpooledRecord("imp", Encoding.UTF8.GetBytes(Value("refused")))], CancellationToken.None).AsTask());
            Assert.Contains("restarted", again.Message, StringComparison.Ordinal);
        }

        // Restarted (the log reopened from disk): every acknowledged append is there, once, in order, nothing refused
        // is, and it takes appends again.
        await using var reopened = EventSpool.Open(path, 1L << 30, NullLogger.Instance);
        Assert.Equal(acknowledged, ReadAll(reopened));
        await reopened.AppendAsync([new SpooledRecord("imp", Encoding.UTF8.GetBytes(Value("after")))], CancellationToken.None);
        Assert.Equal([.. acknowledged, Value("after")], ReadAll(reopened));
    }

    /// <summary>The service on that disk: tracking answers 503 ProblemDetails with Retry-After once the disk is full,
    /// never a 2xx for what it could not store, and liveness fails so that an orchestrator restarts it.</summary>
    private sealed class FullDiskApi(string spoolPath) : ApiFactory(new Dictionary<string, string?>
    {
        ["Kafka:RunConsumer"] = "false",
        ["Ingest:SpoolPath"] = spoolPath,
    });

    [Fact]
    public async Task The_service_on_a_full_disk_answers_503_with_retry_after_and_is_no_longer_live()
    {
        await File.WriteAllBytesAsync(Path.Combine(_mount.FullName, "ballast"), new byte[5 << 20]);
        using var api = new FullDiskApi(Path.Combine(_mount.FullName, "spool"));
        using var http = api.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        HttpResponseMessage? refused = null;
        var padding = new string('x', 4000);
        for (var i = 0; i < 10_000 && refused is null; i++)
        {
            var response = await http.GetAsync(new Uri($"/pixel?impression_id=disk-{i}&campaign_id=c&note={padding}", UriKind.Relative));
            if (response.StatusCode != HttpStatusCode.OK) refused = response;
        }

        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
        Assert.Contains("disk", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
    }

    private static List<string> ReadAll(EventSpool spool)
    {
        var stored = new List<string>();
        using var iterator = spool.Read(spool.BeginAddress);
        while (iterator.GetNext(out var bytes, out var length, out _))
            stored.AddRange(SpoolEntryFormat.Decode(bytes.AsSpan(0, length)).Records.Select(r => Encoding.UTF8.GetString(r.Value)));
        return stored;
    }

    private static async Task<SpoolUnavailableException> FillAsync(EventSpool spool, List<string> acknowledged, string prefix)
    {
        for (var i = 0; i < 100_000; i++)
        {
            var value = Value($"{prefix}-{i}");
            try
            {
                await spool.AppendAsync([new SpooledRecord($"imp-{i}", Encoding.UTF8.GetBytes(value))], CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                acknowledged.Add(value);
            }
            catch (SpoolUnavailableException e)
            {
                return e;
            }
        }

        throw new InvalidOperationException("the disk never filled up");
    }

    private static string Value(string id) => $"{{\"event_id\":\"{id}\",\"padding\":\"{new string('x', 2000)}\"}}";

    private static void Run(string file, string args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true }) ?? throw new InvalidOperationException($"{file} did not start");
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {args}: {process.StandardError.ReadToEnd()}");
    }
}
