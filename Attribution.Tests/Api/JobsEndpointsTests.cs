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

/// <summary>A job that reports half-way progress and waits until its test lets it finish.</summary>
public sealed class GateJob : IMaintenanceJob
{
    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "test-gate";

    public string Description => "Waits for the test";

    public string DefaultCron => JobsApiFixture.LeapDay;

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        progress.Report(0.5, "half way");
        await Gate.Task.WaitAsync(ct);
        return new JobOutcome(7, 2, "gate opened");
    }
}

/// <summary>A job only the pause test pauses, so no other test sees its state change.</summary>
public sealed class PausableJob : IMaintenanceJob
{
    public string Name => "test-pausable";

    public string Description => "Paused and resumed by the test";

    public string DefaultCron => "*/15 * * * *";

    public Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct) => Task.FromResult(new JobOutcome(0, 0, "ran"));
}

/// <summary>The whole service with a Hangfire server, a database and a warehouse of its own; schedules fire only on
/// a leap day, so every run the tests see is one they asked for.</summary>
public sealed class JobsApiFixture : IAsyncLifetime
{
    public const string AdminKey = "jobs-test-key";
    public const string LeapDay = "0 0 29 2 *";
    public static readonly string[] ServiceJobs = ["export-bronze", "export-gold", "export-dims", "compact", "expire-snapshots", "retention", "scd2-merge"];

    private readonly string _connectionString = TestPostgres.NewDatabase("jobsapi");
    private readonly TempDirectory _warehouse = new();

    public WebApplicationFactory<Program>? Factory { get; private set; }

    public HttpClient Client { get; private set; } = null!;

    public GateJob GateJob => Factory!.Services.GetServices<IMaintenanceJob>().OfType<GateJob>().Single();

    public string ConnectionString => _connectionString;

    public WebApplicationFactory<Program> NewFactory() => new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
    {
        b.UseSetting("ConnectionStrings:Postgres", _connectionString);
        b.UseSetting("Kafka:BootstrapServers", TestKafka.BootstrapServers);
        b.UseSetting("Kafka:Topic", TestKafka.NewTopic());
        b.UseSetting("Kafka:RunConsumer", "false");
        b.UseSetting("Lakehouse:WarehousePath", _warehouse.Path);
        // Each instance its own spool; instances on one database run one after the other here.
        b.UseSetting("Ingest:SpoolPath", Path.Combine(_warehouse.Path, $"spool-{Guid.NewGuid():N}"));
        b.UseSetting("Admin:ApiKey", AdminKey);
        b.UseSetting("Jobs:ProgressIntervalSeconds", "0.1");
        b.UseSetting("Jobs:SchedulePollingSeconds", "0.2");
        b.UseSetting("Jobs:QueuePollSeconds", "0.2");
        foreach (var job in ServiceJobs) b.UseSetting($"Jobs:Schedules:{job}", LeapDay);
        b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        b.ConfigureTestServices(s => s.AddMaintenanceJob<GateJob>().AddMaintenanceJob<PausableJob>());
    });

    public Task InitializeAsync()
    {
        Factory = NewFactory();
        Client = Factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        // JobsRestartTests use the settings and the database only, through NewFactory.
        if (Factory is not null)
        {
            GateJob.Gate.TrySetResult();
            Client.Dispose();
            await Factory.DisposeAsync();
        }

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

    /// <summary>What Hangfire's own tables hold, for a failure message.</summary>
    private async Task<string> HangfireJobsAsync()
    {
        await using var db = Npgsql.NpgsqlDataSource.Create(fixture.ConnectionString);
        await using var cmd = db.CreateCommand("""
            SELECT string_agg(j.id || ' ' || coalesce(j.statename, '-') || ' ' || j.invocationdata::text || ' ' || coalesce(s.reason, '') || ' ' || coalesce(s.data::text, ''), E'\n' ORDER BY j.id)
            FROM hangfire.job j LEFT JOIN hangfire.state s ON s.id = j.stateid
            """);
        return (await cmd.ExecuteScalarAsync())?.ToString() ?? "(none)";
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

        throw new TimeoutException($"no matching run of {job}: {last}\nHangfire's jobs: {await HangfireJobsAsync()}");
    }

    [Fact]
    public async Task Every_job_is_listed_with_its_schedule_next_run_and_pause_state()
    {
        var body = await GetJsonAsync("/api/v1/jobs");

        Assert.True(body.GetProperty("scheduler_enabled").GetBoolean());
        Assert.NotEmpty(body.GetProperty("servers").EnumerateArray());
        Assert.Equal("/hangfire", body.GetProperty("dashboard").GetString());
        var jobs = body.GetProperty("jobs").EnumerateArray().ToDictionary(j => j.GetProperty("name").GetString()!);
        Assert.Equal([.. JobsApiFixture.ServiceJobs, "test-gate", "test-pausable"], jobs.Keys);
        foreach (var name in JobsApiFixture.ServiceJobs.Append("test-gate"))
        {
            var job = jobs[name];
            Assert.Equal(JobsApiFixture.LeapDay, job.GetProperty("schedule").GetString());
            Assert.Equal("2028-02-29T00:00:00Z", job.GetProperty("next_run").GetString());
            Assert.Equal("scheduled", job.GetProperty("state").GetString());
            Assert.False(job.GetProperty("paused").GetBoolean());
        }

        Assert.Equal("Rewrite small data files of each partition into files up to 128 MB (replace snapshot) for both tables",
            jobs["compact"].GetProperty("description").GetString());
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
        var applier = fixture.Factory!.Services.GetRequiredService<BatchApplier>();
        var events = LakehouseExportTests.Impressions(0, 12).Concat(LakehouseExportTests.Clicks([1, 2, 3])).ToList();
        await applier.ApplyAsync("g", "t", "c", events.Select((e, i) =>
            new KafkaRecord(0, i, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList(), CancellationToken.None);

        var accepted = await PostAsync("/api/v1/jobs/export-bronze/trigger");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var run = await WaitForRunAsync("export-bronze", r => r.GetProperty("outcome").GetString() is "succeeded" or "failed" or "awaiting_retry");

        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.ToString());
        Assert.Equal(15, run.GetProperty("rows_touched").GetInt64());
        Assert.Equal(1.0, run.GetProperty("progress").GetDouble());
        Assert.True(run.GetProperty("started_at").GetDateTime() <= run.GetProperty("finished_at").GetDateTime(), run.ToString());

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
        // The run's files are the snapshot's: one per hour partition of the 15 events.
        Assert.Equal(files.Count, run.GetProperty("files_touched").GetInt64());
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
        var run = await WaitForRunAsync("scd2-merge", r => r.GetProperty("outcome").GetString() is "succeeded" or "failed" or "awaiting_retry");

        Assert.True(run.GetProperty("outcome").GetString() == "succeeded", run.ToString());
        Assert.Equal("2 staged: 2 opened, 1 closed, 0 corrected, 0 rejected", run.GetProperty("summary").GetString());
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

        fixture.GateJob.Gate.TrySetResult();
        var done = await WaitForRunAsync("test-gate", r => r.GetProperty("outcome").GetString() == "succeeded");
        Assert.Equal(7, done.GetProperty("rows_touched").GetInt64());
        Assert.Equal(2, done.GetProperty("files_touched").GetInt64());
        Assert.Equal("gate opened", done.GetProperty("summary").GetString());
        Assert.NotEqual(JsonValueKind.Null, done.GetProperty("finished_at").ValueKind);
    }

    [Fact]
    public async Task A_paused_job_has_no_next_run_and_resumes_its_schedule()
    {
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/test-pausable/pause")).StatusCode);
        var paused = await JobAsync("test-pausable");
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal("paused", paused.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, paused.GetProperty("next_run").ValueKind);
        Assert.Equal("*/15 * * * *", paused.GetProperty("schedule").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync("/api/v1/jobs/test-pausable/resume")).StatusCode);
        var resumed = await JobAsync("test-pausable");
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        var next = resumed.GetProperty("next_run").GetDateTime();
        Assert.Equal(0, next.Minute % 15);
        Assert.Equal(0, next.Second);
    }

    [Fact]
    public async Task An_unknown_job_is_404()
    {
        var response = await PostAsync("/api/v1/jobs/no-such-job/trigger");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_old_jobs_page_address_leads_to_the_hangfire_recurring_jobs()
    {
        using var noRedirects = fixture.Factory!.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        var response = await noRedirects.GetAsync(new Uri("/jobs", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/hangfire/recurring", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task The_dashboard_answers_401_without_the_admin_key_and_a_key_in_the_address_leaves_a_strict_http_only_cookie()
    {
        using var client = fixture.Factory!.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/hangfire", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/hangfire/recurring?key=wrong", UriKind.Relative))).StatusCode);
        var wrongHeader = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire/recurring", UriKind.Relative));
        wrongHeader.Headers.Add("X-Admin-Key", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(wrongHeader)).StatusCode);

        var withHeader = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire/recurring", UriKind.Relative));
        withHeader.Headers.Add("X-Admin-Key", JobsApiFixture.AdminKey);
        var page = await client.SendAsync(withHeader);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.All(JobsApiFixture.ServiceJobs, job => Assert.Contains(job, html, StringComparison.Ordinal));

        var withKey = await client.GetAsync(new Uri($"/hangfire/recurring?key={JobsApiFixture.AdminKey}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        var cookie = Assert.Single(withKey.Headers.GetValues("Set-Cookie"), c => c.StartsWith("attribution_dashboard=", StringComparison.Ordinal));
        Assert.StartsWith("attribution_dashboard=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/hangfire", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(JobsApiFixture.AdminKey, cookie, StringComparison.Ordinal);

        var withCookie = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire/jobs/succeeded", UriKind.Relative));
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(withCookie)).StatusCode);
        var forgedCookie = new HttpRequestMessage(HttpMethod.Get, new Uri("/hangfire/jobs/succeeded", UriKind.Relative));
        forgedCookie.Headers.Add("Cookie", "attribution_dashboard=" + JobsApiFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.SendAsync(forgedCookie)).StatusCode);
    }
}

/// <summary>Instances that start one after the other on one database: the schedules live in Hangfire's storage.</summary>
public sealed class JobsRestartTests : IAsyncLifetime
{
    private readonly JobsApiFixture _database = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _database.DisposeAsync();

    private static async Task<JsonElement> PausableAsync(HttpClient client)
    {
        using var doc = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/v1/jobs", UriKind.Relative)));
        return doc.RootElement.GetProperty("jobs").EnumerateArray().Single(j => j.GetProperty("name").GetString() == "test-pausable").Clone();
    }

    [Fact]
    public async Task A_pause_survives_a_restart_and_a_resume_after_it_restores_the_configured_schedule()
    {
        await using (var first = _database.NewFactory())
        {
            using var client = first.CreateClient();
            var pause = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/jobs/test-pausable/pause", UriKind.Relative));
            pause.Headers.Add("X-Admin-Key", JobsApiFixture.AdminKey);
            Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(pause)).StatusCode);
        }

        await using var second = _database.NewFactory();
        using var again = second.CreateClient();
        Assert.True((await PausableAsync(again)).GetProperty("paused").GetBoolean());

        var resume = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/jobs/test-pausable/resume", UriKind.Relative));
        resume.Headers.Add("X-Admin-Key", JobsApiFixture.AdminKey);
        Assert.Equal(HttpStatusCode.Accepted, (await again.SendAsync(resume)).StatusCode);
        var resumed = await PausableAsync(again);
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        Assert.Equal(0, resumed.GetProperty("next_run").GetDateTime().Minute % 15);
    }

    /// <summary>A service killed while it held one of Hangfire's locks leaves the lock's row behind; the next instance
    /// must still start, and the schedule is made once the lock is taken over (Jobs:LockTimeoutSeconds).</summary>
    [Fact]
    public async Task A_lock_left_by_a_killed_instance_does_not_stop_the_next_one_from_starting_and_scheduling()
    {
        await using (var first = _database.NewFactory())
        {
            using var client = first.CreateClient();
            await PausableAsync(client);
        }

        await using (var db = Npgsql.NpgsqlDataSource.Create(_database.ConnectionString))
        await using (var leftBehind = db.CreateCommand(
            "INSERT INTO hangfire.lock (resource, updatecount, acquired) VALUES ('hangfire:lock:recurring-job:test-pausable', 0, now() AT TIME ZONE 'UTC')"))
        {
            await leftBehind.ExecuteNonQueryAsync();
        }

        await using var second = _database.NewFactory().WithWebHostBuilder(b => b.UseSetting("Jobs:LockTimeoutSeconds", "5"));
        using var again = second.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        await using var store = Npgsql.NpgsqlDataSource.Create(_database.ConnectionString);
        await Eventually.TrueAsync(async () => await Db.CountAsync(store, "SELECT count(*) FROM hangfire.lock") == 0,
            "the abandoned lock taken over and released", TimeSpan.FromSeconds(60));
        Assert.False((await PausableAsync(again)).GetProperty("paused").GetBoolean());
    }
}
