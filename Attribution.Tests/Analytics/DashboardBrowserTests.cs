using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Api.Simulation;
using Attribution.Tests.Fixtures;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;

namespace Attribution.Tests.Analytics;

/// <summary>The dashboard in headless Chromium against the real service (Kestrel, Kafka, consumer, PostgreSQL) with data
/// sent through the tracking API: the totals on the page are the ones the events imply, and every chart has lines.</summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriverFolder = "/usr/bin";
    private const string ChromeDriver = "chromedriver";
    private static readonly string[] Charts = ["impressions", "clicks", "cost", "revenue", "roas", "ctr"];

    [Fact]
    public async Task The_dashboard_shows_the_right_totals_and_non_empty_charts_for_a_running_service()
    {
        Assert.True(File.Exists(Chromium) && File.Exists(Path.Combine(ChromeDriverFolder, ChromeDriver)),
            $"This test needs headless Chromium ({Chromium}) and its driver ({ChromeDriverFolder}/{ChromeDriver}): " +
            "apt-get install -y chromium chromium-driver, or run scripts/setup.sh with ATTRIBUTION_BROWSER_TESTS=1 (scripts/test.sh does).");

        var db = TestPostgres.NewDatabase("dash");
        var port = FreePort();
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        var log = new StringBuilder();
        using var service = StartService(port, db, log);
        var profile = Directory.CreateTempSubdirectory("dashboard-chromium-");
        try
        {
            using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };
            await WaitAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, service, log, "the service to be ready");

            var events = Traffic();
            foreach (var chunk in events.Chunk(1000))
            {
                var sent = await http.PostAsJsonAsync(new Uri("/api/v1/events", UriKind.Relative), chunk);
                Assert.True(sent.IsSuccessStatusCode, $"POST /api/v1/events: {(int)sent.StatusCode} {await sent.Content.ReadAsStringAsync()}");
            }

            await WaitAsync(async () =>
            {
                var status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative))).RootElement;
                return status.GetProperty("lag").GetInt64() == 0 && status.GetProperty("events_applied").GetInt64() >= events.Count;
            }, service, log, $"the pipeline to apply {events.Count} events");

            var expected = Expected(events);
            var (from, to) = (Scenario.T0, Scenario.T0.AddHours(6));
            using var driver = StartBrowser(profile.FullName);
            driver.Navigate().GoToUrl(new Uri(baseUri, $"/dashboard/?from={Scenario.Iso(from)}&to={Scenario.Iso(to)}"));
            new WebDriverWait(driver, TimeSpan.FromSeconds(30)).Until(d =>
                d.FindElement(By.TagName("body")).GetAttribute("data-state") is "ready" or "error");

            var screenshot = Path.Combine(AppContext.BaseDirectory, "screenshots", "dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
            driver.GetScreenshot().SaveAsFile(screenshot);
            output.WriteLine($"screenshot: {screenshot}");

            Assert.Equal("", driver.FindElement(By.Id("error")).Text);
            decimal Total(string metric) => decimal.Parse(
                driver.FindElement(By.CssSelector($"[data-metric='{metric}']")).GetAttribute("data-value") ?? "", CultureInfo.InvariantCulture);
            Assert.Equal(expected.Impressions, Total("impressions"));
            Assert.Equal(expected.Clicks, Total("clicks"));
            Assert.Equal(expected.Conversions, Total("conversions"));
            Assert.Equal(expected.Cost, Total("cost"));
            Assert.Equal(expected.Revenue, Total("revenue"));
            Assert.Equal(expected.Campaigns, driver.FindElements(By.CssSelector("#campaigns tbody tr")).Count);
            foreach (var chart in Charts)
            {
                var lines = driver.FindElements(By.CssSelector($"svg[data-chart='{chart}'] path.series"));
                Assert.True(lines.Count == expected.Campaigns, $"chart {chart} has {lines.Count} lines, expected one per campaign ({expected.Campaigns})");
                Assert.All(lines, l => Assert.Contains("L", l.GetAttribute("d") ?? "", StringComparison.Ordinal));
            }

            Assert.Equal("0", driver.FindElement(By.CssSelector("[data-testid='pipeline-lag']")).Text);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\nservice log:\n{log}", e);
        }
        finally
        {
            if (!service.HasExited) service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
            profile.Delete(recursive: true);
            TestPostgres.Drop(db);
        }
    }

    /// <summary>Six hours of the simulator's funnel, four campaigns, generous click and conversion rates.</summary>
    private static List<JsonObject> Traffic()
    {
        var model = new TrafficModel(new TrafficOptions { Seed = 5, Campaigns = 4, Users = 300, ClickRate = 0.2, ConversionRate = 0.3 });
        return Enumerable.Range(0, 720).SelectMany(i => model.Funnel(Scenario.T0.AddSeconds(30 * i))).Select(e => e.Payload).ToList();
    }

    private sealed record Totals(long Impressions, long Clicks, long Conversions, decimal Cost, decimal Revenue, int Campaigns);

    /// <summary>What Gold must hold: every impression, each clicked one, each conversion (all minutes after their click,
    /// well within the lookback), their bids and values.</summary>
    private static Totals Expected(List<JsonObject> events)
    {
        List<JsonObject> Of(string type) => events.Where(e => (string?)e["event_type"] == type).ToList();
        return new Totals(Of("IMPRESSION").Count, Of("CLICK").Count, Of("CONVERSION").Count,
            Of("IMPRESSION").Sum(e => (decimal)e["bid_price"]!), Of("CONVERSION").Sum(e => (decimal)e["conversion_value"]!),
            Of("IMPRESSION").Select(e => (string?)e["campaign_id"]).Distinct().Count());
    }

    private static Process StartService(int port, string connectionString, StringBuilder log)
    {
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
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
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

    private static async Task WaitAsync(Func<Task<bool>> condition, Process service, StringBuilder log, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (service.HasExited) throw new InvalidOperationException($"the service exited ({service.ExitCode}) while waiting for {what}:\n{log}");
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

        throw new TimeoutException($"timed out waiting for {what}:\n{log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
