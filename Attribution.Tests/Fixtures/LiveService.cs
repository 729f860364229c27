using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenQA.Selenium.Chrome;

namespace Attribution.Tests.Fixtures;

/// <summary>
/// The service as its own process on Kestrel (what a browser needs: the test server has no socket), with the
/// embedded Kafka broker, and headless Chromium to look at it.
/// </summary>
internal sealed class LiveService : IDisposable
{
    public const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriverFolder = "/usr/bin";
    private const string ChromeDriver = "chromedriver";

    private readonly Process _process;
    private readonly DirectoryInfo? _warehouse;
    private readonly StringBuilder _log = new();
    private readonly List<(ChromeDriver Driver, DirectoryInfo Profile)> _browsers = [];

    private LiveService(Process process, Uri address, DirectoryInfo? warehouse)
    {
        _process = process;
        _warehouse = warehouse;
        Address = address;
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>Whether the service's process has ended (crashed, or stopped its host).</summary>
    public bool HasExited => _process.HasExited;

    public static void RequireBrowser() =>
        Assert.True(File.Exists(Chromium) && File.Exists(Path.Combine(ChromeDriverFolder, ChromeDriver)),
            $"This test needs headless Chromium ({Chromium}) and its driver ({ChromeDriverFolder}/{ChromeDriver}): " +
            "apt-get install -y chromium chromium-driver, or run scripts/setup.sh with ATTRIBUTION_BROWSER_TESTS=1 (scripts/test.sh does).");

    /// <summary>
    /// Runs a test against the service started on a database of its own: a failure that is not an assertion carries
    /// the service's log, and the service, its browsers and the database go afterwards whatever happened.
    /// </summary>
    public static async Task RunAsync(string databasePrefix, IDictionary<string, string>? environment, Func<LiveService, Task> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        var db = TestPostgres.NewDatabase(databasePrefix);
        using var service = Start(db, environment);
        try
        {
            await test(service);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\nservice log:\n{service.Log}", e);
        }
        finally
        {
            service.Dispose();
            TestPostgres.Drop(db);
        }
    }

    /// <summary>A client of the service's address.</summary>
    public HttpClient Http() => TestIngestKey.Client(Address, TimeSpan.FromSeconds(30));

    /// <summary>Headless Chromium with a fresh profile, closed with the service.</summary>
    public ChromeDriver Browser()
    {
        var profile = Directory.CreateTempSubdirectory("live-service-chromium-");
        var driver = StartBrowser(profile.FullName);
        _browsers.Add((driver, profile));
        return driver;
    }

    /// <summary>Saves what the browser shows under the test output's screenshots/ folder; returns the file.</summary>
    public static string Screenshot(ChromeDriver driver, string name)
    {
        ArgumentNullException.ThrowIfNull(driver);
        var file = Path.Combine(AppContext.BaseDirectory, "screenshots", $"{name}.png");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        driver.GetScreenshot().SaveAsFile(file);
        return file;
    }

    /// <summary>Starts the built service on a free port of 127.0.0.1 against the given database.</summary>
    /// <param name="connectionString">The service's database.</param>
    /// <param name="environment">More settings, as environment variables.</param>
    /// <param name="folder">Where its warehouse and spool live; a new temporary folder (deleted with the service) unless
    /// given, so that a restarted service finds what the killed one left.</param>
    public static LiveService Start(string connectionString, IDictionary<string, string>? environment = null, DirectoryInfo? folder = null)
    {
        var port = FreePort();
        // A warehouse and a spool of its own: the default warehouse beside the binaries holds other runs' tables, which
        // the exports refuse, and a spool belongs to one instance.
        var warehouse = folder ?? Directory.CreateTempSubdirectory("live-service-warehouse-");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "Attribution.Api.dll"), "--urls", $"http://127.0.0.1:{port}" },
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                ["Kafka__BootstrapServers"] = "embedded",
                ["Kafka__EmbeddedPartitions"] = "4",
                ["Kafka__SessionTimeoutMs"] = "6000",
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Audience__RefreshSeconds"] = "0", // as ApiFactory: the cube's refresh is not what these services test
                ["Lakehouse__WarehousePath"] = Path.Combine(warehouse.FullName, "warehouse"),
                ["Ingest__SpoolPath"] = Path.Combine(warehouse.FullName, "spool"),
                [TestIngestKey.EnvironmentVariable] = TestIngestKey.Secret,
            },
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        return new LiveService(process, new Uri($"http://127.0.0.1:{port}"), folder is null ? warehouse : null);
    }

    /// <summary>Polls until the condition holds; fails with the service's log when it exits or the deadline passes.</summary>
    public async Task WaitAsync(Func<Task<bool>> condition, string what, int seconds = 90)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the service exited ({_process.ExitCode}) while waiting for {what}:\n{Log}");
            try
            {
                if (await condition()) return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"timed out waiting for {what}:\n{Log}");
    }

    private static ChromeDriver StartBrowser(string profile)
    {
        var driverService = ChromeDriverService.CreateDefaultService(ChromeDriverFolder, ChromeDriver);
        driverService.SuppressInitialDiagnosticInformation = true;
        driverService.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", $"--user-data-dir={profile}", "--window-size=1400,2200");
        return new ChromeDriver(driverService, options, TimeSpan.FromSeconds(60));
    }

    private bool _disposed;

    /// <summary>Kills the service; a second call does nothing.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var (driver, profile) in _browsers)
        {
            driver.Dispose();
            profile.Delete(recursive: true);
        }

        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _warehouse?.Delete(recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
