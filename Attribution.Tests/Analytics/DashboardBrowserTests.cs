using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Api.Simulation;
using Attribution.Tests.Fixtures;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;

namespace Attribution.Tests.Analytics;

/// <summary>The dashboard in headless Chromium against the real service (Kestrel, Kafka, consumer, PostgreSQL) with data
/// sent through the tracking API: the totals on the page are the ones the events imply, every chart has lines, and an
/// experiment shows its arms with intervals, and the billing panel shows the month's lines.</summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output)
{
    private static readonly string[] Charts = ["impressions", "clicks", "cost", "revenue", "roas", "ctr"];

    /// <summary>Forward pass only: a service process, broker, spool and database of its own (LiveService).</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task The_dashboard_shows_the_right_totals_and_non_empty_charts_for_a_running_service()
    {
        LiveService.RequireBrowser();
        await LiveService.RunAsync("dash", new Dictionary<string, string> { ["Admin__ApiKey"] = ApiFactory.AdminKey }, async service =>
        {
            using var http = service.Http();
            await service.WaitAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).IsSuccessStatusCode, "the service to be ready");

            var events = Traffic();
            foreach (var chunk in events.Chunk(1000))
            {
                var sent = await http.PostAsJsonAsync(new Uri("/api/v1/events", UriKind.Relative), chunk);
                Assert.True(sent.IsSuccessStatusCode, $"POST /api/v1/events: {(int)sent.StatusCode} {await sent.Content.ReadAsStringAsync()}");
            }

            await service.WaitAsync(async () =>
            {
                var status = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative))).RootElement;
                return status.GetProperty("lag").GetInt64() == 0 && status.GetProperty("events_applied").GetInt64() >= events.Count;
            }, $"the pipeline to apply {events.Count} events");

            // An A/B test of camp-01's first two creatives over the traffic's hours.
            using (var create = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/experiments", UriKind.Relative))
            {
                Content = JsonContent.Create(new
                {
                    experiment_id = "dash-ab", campaign_id = "camp-01", start = Scenario.Iso(Scenario.T0),
                    arms = new[] { new { creative_id = "camp-01-cr-1", weight = 1.0 }, new { creative_id = "camp-01-cr-2", weight = 1.0 } },
                }),
            })
            {
                create.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
                var created = await http.SendAsync(create);
                Assert.True(created.IsSuccessStatusCode, $"POST /api/v1/experiments: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }

            // camp-01 bills per impression, camp-02 per click at 0.10, for the whole of November.
            foreach (var (campaign, model, rate) in new[] { ("camp-01", "CPM", (decimal?)null), ("camp-02", "CPC", 0.10m) })
            {
                using var put = new HttpRequestMessage(HttpMethod.Put, new Uri($"/api/v1/campaigns/{campaign}", UriKind.Relative))
                {
                    Content = JsonContent.Create(new
                    {
                        name = campaign, budget_amount = 1000m, budget_type = "LIFETIME", status = "ACTIVE", effective_at = "2026-10-01T00:00:00Z",
                        billing_model = model, cpc_rate = rate,
                    }),
                };
                put.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
                var created = await http.SendAsync(put);
                Assert.True(created.IsSuccessStatusCode, $"PUT {campaign}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            }

            var expected = Expected(events);
            var (from, to) = (Scenario.T0, Scenario.T0.AddHours(6));
            var driver = service.Browser();
            driver.Navigate().GoToUrl(new Uri(service.Address, $"/dashboard/?from={Scenario.Iso(from)}&to={Scenario.Iso(to)}&billing_period=2026-11"));
            new WebDriverWait(driver, TimeSpan.FromSeconds(30)).Until(d =>
                d.FindElement(By.TagName("body")).GetAttribute("data-state") is "ready" or "error"
                && d.FindElement(By.Id("fraud")).GetAttribute("data-state") is "ready" or "error");

            output.WriteLine($"screenshot: {LiveService.Screenshot(driver, "dashboard")}");

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
                // Drawn by uPlot on a canvas: the container says how many series got points, and how many each.
                var div = driver.FindElement(By.CssSelector($"div[data-chart='{chart}']"));
                Assert.Equal(expected.Campaigns.ToString(CultureInfo.InvariantCulture), div.GetAttribute("data-series"));
                Assert.All((div.GetAttribute("data-points") ?? "").Split(','), p => Assert.True(int.Parse(p, CultureInfo.InvariantCulture) >= 2, $"chart {chart}: a line of {p} points"));
                Assert.NotEmpty(div.FindElements(By.CssSelector("canvas")));
            }

            var experiment = driver.FindElement(By.CssSelector("figure[data-testid='experiment'][data-experiment='dash-ab']"));
            Assert.Equal("2", experiment.GetAttribute("data-arms"));
            Assert.NotEmpty(experiment.FindElements(By.CssSelector("canvas")));
            var arms = experiment.FindElements(By.CssSelector("tbody tr"));
            Assert.Equal(2, arms.Count);
            Assert.StartsWith("camp-01-cr-1 (control)", arms[0].Text, StringComparison.Ordinal);
            Assert.Matches(@"\d+\.\d\d % \[\d+\.\d\d %, \d+\.\d\d %\]", arms[1].Text);

            // The fraud panel: the bot's impressions as one rule's share over the hours, and its line in the summary.
            var fraud = driver.FindElement(By.Id("fraud"));
            Assert.Equal("ready", fraud.GetAttribute("data-state"));
            var fraudChart = fraud.FindElement(By.CssSelector("div[data-chart='fraud']"));
            Assert.Equal("1", fraudChart.GetAttribute("data-series"));
            Assert.True(int.Parse(fraudChart.GetAttribute("data-points") ?? "0", CultureInfo.InvariantCulture) >= 1, "the bot's hours have a share");
            Assert.NotNull(fraudChart.GetAttribute("data-anomalies"));
            Assert.NotEmpty(fraudChart.FindElements(By.CssSelector("canvas")));
            var bot = fraud.FindElement(By.CssSelector("#fraud-summary tbody tr[data-rule='BOT_USER_AGENT']"));
            Assert.StartsWith("camp-0", bot.Text, StringComparison.Ordinal);
            Assert.Equal(20, fraud.FindElements(By.CssSelector("#fraud-summary tbody tr")).Sum(r =>
                int.Parse(r.FindElements(By.TagName("td"))[2].Text, CultureInfo.InvariantCulture)));

            // Billing: one line per campaign with a version; camp-01's is the bids of its impressions but the bot's (the
            // only events with a User-Agent, all flagged), camp-02's a multiple of its rate.
            var billingRows = driver.FindElements(By.CssSelector("#billing tbody tr"));
            Assert.Equal(["camp-01", "camp-02"], billingRows.Select(r => r.GetAttribute("data-campaign")));
            decimal Amount(IWebElement row) => decimal.Parse(row.GetAttribute("data-amount") ?? "", NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.Equal(events.Where(e => (string?)e["event_type"] == "IMPRESSION" && (string?)e["campaign_id"] == "camp-01" && e["user_agent"] is null).Sum(e => (decimal)e["bid_price"]!), Amount(billingRows[0]));
            Assert.True(Amount(billingRows[1]) > 0 && Amount(billingRows[1]) % 0.10m == 0, $"camp-02 bills {Amount(billingRows[1])}");
            Assert.StartsWith("(2026-11, open)", driver.FindElement(By.Id("billing-label")).Text, StringComparison.Ordinal);
            var billingChart = driver.FindElement(By.CssSelector("div[data-chart='billing']"));
            Assert.Equal("2", billingChart.GetAttribute("data-lines"));
            Assert.NotEmpty(billingChart.FindElements(By.CssSelector("canvas")));

            Assert.Equal("0", driver.FindElement(By.CssSelector("[data-testid='pipeline-lag']")).Text);
            // The spool this instance acknowledged into: on the embedded broker it keeps entries until they are applied.
            Assert.Matches(@"^[\d.]+ (B|KiB|MiB) on disk, [\d,]+ entries in flight$", driver.FindElement(By.CssSelector("[data-testid='pipeline-spool']")).Text);
            Assert.StartsWith($"embedded: kept until applied; {events.Count:N0} forwarded",
                driver.FindElement(By.CssSelector("[data-testid='pipeline-forwarder']")).Text, StringComparison.Ordinal);
            Assert.EndsWith("/hangfire/recurring", driver.FindElement(By.Id("link-jobs")).GetAttribute("href"), StringComparison.Ordinal);
        });
    }

    /// <summary>Six hours of the simulator's funnel, four campaigns, generous click and conversion rates, and 20 impressions
    /// a bot sent (its User-Agent says so: flagged, never clicked).</summary>
    private static List<JsonObject> Traffic()
    {
        var model = new TrafficModel(new TrafficOptions { Seed = 5, Campaigns = 4, Users = 300, ClickRate = 0.2, ConversionRate = 0.3 });
        var events = Enumerable.Range(0, 720).SelectMany(i => model.Funnel(Scenario.T0.AddSeconds(30 * i))).Select(e => e.Payload).ToList();
        var bots = events.Where(e => (string?)e["event_type"] == "IMPRESSION").Take(20).Select((e, i) =>
        {
            var bot = e.DeepClone().AsObject();
            bot["event_id"] = $"bot-{i}-i";
            bot["impression_id"] = $"bot-{i}";
            bot["user_agent"] = "python-requests/2.31.0";
            return bot;
        }).ToList();
        return [.. events, .. bots];
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
}
