using System.Net;
using System.Text;
using System.Text.Json;
using Attribution.Projections.Jobs;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Attribution.Tests.Lakehouse;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>A job that reports half-way progress and waits until the test lets it finish.</summary>
internal sealed class GateJob : IMaintenanceJob
{
    public static readonly TaskCompletionSource Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "test-gate";

    public string Description => "Waits for the test";

    public string DefaultCron => JobsApiFixture.Never;

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        progress.Report(0.5, "half way");
        await Gate.Task.WaitAsync(ct);
        return new JobOutcome(7, 2, "gate opened");
    }
}

/// <summary>The whole service with the scheduler on, a database and a warehouse of its own; schedules never fire by
/// themselves, so every run the tests see is one they asked for.</summary>
public sealed class JobsApiFixture : IAsyncLifetime
{
    public const string AdminKey = "jobs-test-key";
    public const string Never = "0 0 0 1 1 ? 2099";

    private readonly string _connectionString = TestPostgres.NewDatabase("jobsapi");
    private readonly TempDirectory _warehouse = new();

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("ConnectionStrings:Postgres", _connectionString);
            b.UseSetting("Kafka:BootstrapServers", TestKafka.BootstrapServers);
            b.UseSetting("Kafka:Topic", TestKafka.NewTopic());
            b.UseSetting("Kafka:RunConsumer", "false");
            b.UseSetting("Lakehouse:WarehousePath", _warehouse.Path);
            b.UseSetting("Admin:ApiKey", AdminKey);
            b.UseSetting("Jobs:ProgressIntervalSeconds", "0.1");
            foreach (var job in new[] { "export-bronze", "export-gold", "compact", "expire-snapshots", "retention", "scd2-merge" })
                b.UseSetting($"Jobs:Schedules:{job}", Never);
            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
            b.ConfigureTestServices(s => s.AddMaintenanceJob<GateJob>());
        });
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        GateJob.Gate.TrySetResult();
        Client.Dispose();
        await Factory.DisposeAsync();
        TestPostgres.Drop(_connectionString);
        _warehouse.Dispose();
    }
}

public sealed class JobsEndpointsTests(JobsApiFixture fixture) : IClassFixture<JobsApiFixture>
{
    private readonly HttpClient _client = fixture.Client;

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        var response = await _client.GetAsync(new Uri(url, UriKind.Relative));
        Assert.True(response.IsSuccessStatusCode, $"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    private async Task<JsonElement> JobAsync(string name) =>
        (await GetJsonAsync("/api/v1/jobs")).GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == name);

    private Task<HttpResponseMessage> PostAsync(string url, string? key = JobsApiFixture.AdminKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(url, UriKind.Relative));
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return _client.SendAsync(request);
    }

    /// <summary>Polls the jobs list until a run of the job satisfies the condition.</summary>
    private async Task<JsonElement> WaitForRunAsync(string job, Func<JsonElement, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await JobAsync(job);
            foreach (var run in last.GetProperty("last_runs").EnumerateArray())
                if (condition(run)) return run;
            await Task.Delay(100);
        }

        throw new TimeoutException($"no matching run of {job}: {last}");
    }

    [Fact]
    public async Task Every_job_is_listed_with_its_schedule_next_run_and_pause_state()
    {
        var body = await GetJsonAsync("/api/v1/jobs");

        Assert.True(body.GetProperty("scheduler_enabled").GetBoolean());
        Assert.Equal("running", body.GetProperty("scheduler_status").GetString());
        var jobs = body.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Superset(new HashSet<string> { "export-bronze", "export-gold", "compact", "expire-snapshots", "retention", "scd2-merge", "test-gate" }, jobs.Keys.ToHashSet());
        foreach (var job in jobs.Values)
        {
            Assert.Equal(JobsApiFixture.Never, job.GetProperty("schedule").GetString());
            Assert.StartsWith("2099-01-01", job.GetProperty("next_run").GetString(), StringComparison.Ordinal);
            Assert.False(job.GetProperty("paused").GetBoolean());
            Assert.False(string.IsNullOrEmpty(job.GetProperty("description").GetString()));
        }
    }

    [Theory]
    [InlineData("trigger")]
    [InlineData("pause")]
    [InlineData("resume")]
    public async Task Changing_actions_answer_401_without_the_admin_key_and_403_with_a_wrong_one(string action)
    {
        var without = await PostAsync($"/api/v1/jobs/retention/{action}", key: null);
        var wrong = await PostAsync($"/api/v1/jobs/retention/{action}", key: "not-the-key");

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal("application/problem+json", without.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal("application/problem+json", wrong.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await JobAsync("retention")).GetProperty("last_runs").EnumerateArray());
    }

    [Fact]
    public async Task Run_now_exports_and_the_run_and_the_new_snapshot_are_listed()
    {
        var applier = fixture.Factory.Services.GetRequiredService<BatchApplier>();
        var events = LakehouseExportTests.Impressions(0, 12).Concat(LakehouseExportTests.Clicks([1, 2, 3])).ToList();
        await applier.ApplyAsync("g", "t", "c", events.Select((e, i) =>
            new KafkaRecord(0, i, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList(), CancellationToken.None);

        var accepted = await PostAsync("/api/v1/jobs/export-bronze/trigger");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var run = await WaitForRunAsync("export-bronze", r => r.GetProperty("outcome").GetString() is "succeeded" or "failed");

        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        Assert.Equal("manual", run.GetProperty("trigger").GetString());
        Assert.Equal(15, run.GetProperty("rows_touched").GetInt64());
        Assert.True(run.GetProperty("files_touched").GetInt64() > 0);
        Assert.True(run.GetProperty("duration_ms").GetDouble() >= 0);
        Assert.Equal(1.0, run.GetProperty("progress").GetDouble());

        var tables = (await GetJsonAsync("/api/v1/lakehouse/tables")).GetProperty("tables").EnumerateArray().ToList();
        var bronze = tables.Single(t => t.GetProperty("name").GetString() == "bronze.ad_events");
        Assert.Equal("hour", bronze.GetProperty("partition_spec")[0].GetProperty("transform").GetString());
        Assert.Equal(15, bronze.GetProperty("export").GetProperty("rows_exported").GetInt64());
        var snapshot = bronze.GetProperty("snapshots").EnumerateArray().Single();
        Assert.Equal("append", snapshot.GetProperty("operation").GetString());
        Assert.Equal("15", snapshot.GetProperty("summary").GetProperty("added-records").GetString());
        Assert.Equal("15", snapshot.GetProperty("summary").GetProperty("attribution.seq-to").GetString());

        var id = snapshot.GetProperty("snapshot_id").GetInt64();
        var detail = await GetJsonAsync($"/api/v1/lakehouse/bronze.ad_events/snapshots/{id}");
        Assert.Equal(15, detail.GetProperty("live_records").GetInt64());
        var files = detail.GetProperty("files").EnumerateArray().ToList();
        Assert.Equal(detail.GetProperty("live_files").GetInt32(), files.Count);
        Assert.Equal(15, files.Sum(f => f.GetProperty("record_count").GetInt64()));
        Assert.All(files, f => Assert.StartsWith("event_time_hour=2026-11-01-", f.GetProperty("partition").GetString(), StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(new Uri($"/api/v1/lakehouse/bronze.ad_events/snapshots/{id + 1}", UriKind.Relative))).StatusCode);
        var unknown = await _client.GetAsync(new Uri("/api/v1/lakehouse/nope.nothing/snapshots/1", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_scd2_merge_job_applies_staged_campaign_changes()
    {
        var staged = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/campaigns:batch", UriKind.Relative))
        {
            Content = new StringContent("""
                { "changes": [
                  { "campaign_id": "job-camp", "name": "Job", "budget_amount": 100, "budget_type": "DAILY", "status": "ACTIVE", "effective_at": "2026-11-01T00:00:00Z" },
                  { "campaign_id": "job-camp", "budget_amount": 150, "effective_at": "2026-11-02T00:00:00Z" } ] }
                """, Encoding.UTF8, "application/json"),
        };
        staged.Headers.Add("X-Admin-Key", JobsApiFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(staged)).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/scd2-merge/trigger")).StatusCode);
        var run = await WaitForRunAsync("scd2-merge", r => r.GetProperty("outcome").GetString() is "succeeded" or "failed");

        Assert.Equal("succeeded", run.GetProperty("outcome").GetString());
        var history = (await GetJsonAsync("/api/v1/campaigns/job-camp/history")).EnumerateArray().ToList();
        Assert.Equal([100m, 150m], history.Select(v => v.GetProperty("budget_amount").GetDecimal()));
        Assert.Equal("2026-11-02T00:00:00Z", history[0].GetProperty("end_ts").GetString());
        Assert.True(history[1].GetProperty("is_current").GetBoolean());
    }

    [Fact]
    public async Task A_running_job_shows_its_progress_and_then_its_outcome()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/test-gate/trigger")).StatusCode);

        var running = await WaitForRunAsync("test-gate", r => r.GetProperty("outcome").GetString() == "running" && r.GetProperty("progress").GetDouble() == 0.5);
        Assert.Equal("half way", running.GetProperty("progress_message").GetString());
        Assert.True((await JobAsync("test-gate")).GetProperty("running").GetBoolean());

        GateJob.Gate.TrySetResult();
        var done = await WaitForRunAsync("test-gate", r => r.GetProperty("outcome").GetString() == "succeeded");
        Assert.Equal(7, done.GetProperty("rows_touched").GetInt64());
        Assert.Equal(2, done.GetProperty("files_touched").GetInt64());
        Assert.Equal("gate opened", done.GetProperty("summary").GetString());
        Assert.NotEqual(JsonValueKind.Null, done.GetProperty("finished_at").ValueKind);
    }

    [Fact]
    public async Task Pause_and_resume_change_the_schedule_state()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/compact/pause")).StatusCode);
        var paused = await JobAsync("compact");
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal(JsonValueKind.Null, paused.GetProperty("next_run").ValueKind);

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/compact/resume")).StatusCode);
        var resumed = await JobAsync("compact");
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.NotEqual(JsonValueKind.Null, resumed.GetProperty("next_run").ValueKind);
    }

    [Fact]
    public async Task An_unknown_job_is_404()
    {
        var response = await PostAsync("/api/v1/jobs/no-such-job/trigger");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_jobs_page_is_served()
    {
        var response = await _client.GetAsync(new Uri("/jobs", UriKind.Relative));
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/v1/jobs", html, StringComparison.Ordinal);
        Assert.Contains("X-Admin-Key", html, StringComparison.Ordinal);
    }
}
