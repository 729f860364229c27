using System.Text.Json;
using Attribution.Tests.Fixtures;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;
using Xunit.Abstractions;

namespace Attribution.Tests.Api;

/// <summary>The Hangfire dashboard as a newcomer meets it: the running service, headless Chromium, the admin key once
/// in the address; every recurring job is listed, and one is run from the page.</summary>
public sealed class HangfireDashboardBrowserTests(ITestOutputHelper output)
{
    private const string AdminKey = "browser-admin-key";
    private static readonly string[] Jobs = ["compact", "expire-snapshots", "export-bronze", "export-dims", "export-gold", "retention", "scd2-merge"];

    /// <summary>Forward pass only: a service process, broker, spool and database of its own (LiveService).</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task The_dashboard_opened_with_the_admin_key_lists_every_recurring_job_and_runs_one_on_request()
    {
        LiveService.RequireBrowser();
        var environment = new Dictionary<string, string>
        {
            ["Admin__ApiKey"] = AdminKey,
            ["Jobs__SchedulePollingSeconds"] = "0.5",
            ["Jobs__QueuePollSeconds"] = "0.5",
        };
        await LiveService.RunAsync("hfdash", environment, async service =>
        {
            using var http = service.Http();
            await service.WaitAsync(async () => (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).IsSuccessStatusCode, "the service to start");
            // The recurring jobs are registered as the service starts: wait until the API lists them all as scheduled.
            await service.WaitAsync(async () => (await JobsAsync(http)).All(j => j.GetProperty("state").GetString() == "scheduled"), "the recurring jobs");

            var driver = service.Browser();
            driver.Navigate().GoToUrl(new Uri(service.Address, $"/hangfire/recurring?key={AdminKey}"));
            var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30));
            wait.Until(d => d.FindElements(By.CssSelector("input.js-jobs-list-checkbox")).Count >= Jobs.Length);
            var listed = driver.FindElements(By.CssSelector("input.js-jobs-list-checkbox")).Select(c => c.GetAttribute("value")).Order(StringComparer.Ordinal);
            Assert.Equal(Jobs, listed);

            // Run scd2-merge from the page: its checkbox, then "Trigger now" (the dashboard's own POST, with the cookie
            // the key left and its antiforgery token).
            driver.FindElement(By.CssSelector("input.js-jobs-list-checkbox[value='scd2-merge']")).Click();
            driver.FindElement(By.CssSelector("button.js-jobs-list-command[data-url$='/recurring/trigger']")).Click();
            await service.WaitAsync(async () => (await JobsAsync(http)).Single(j => j.GetProperty("name").GetString() == "scd2-merge")
                .GetProperty("last_runs").EnumerateArray().Any(r => r.GetProperty("outcome").GetString() == "succeeded"), "the run asked for on the page", 60);

            driver.Navigate().GoToUrl(new Uri(service.Address, "/hangfire/jobs/succeeded"));
            wait.Until(d => d.FindElements(By.CssSelector("input.js-jobs-list-checkbox")).Count >= 1);
            Assert.Contains("scd2-merge", driver.FindElement(By.TagName("body")).Text, StringComparison.Ordinal);
            output.WriteLine($"screenshot: {LiveService.Screenshot(driver, "hangfire")}");
        });
    }

    private static async Task<List<JsonElement>> JobsAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/jobs", UriKind.Relative)));
        return doc.RootElement.GetProperty("jobs").EnumerateArray().Select(j => j.Clone()).ToList();
    }
}
