using System.Globalization;
using System.Text.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using Hangfire.Storage.Monitoring;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Jobs;

/// <summary>One run of a job as Hangfire keeps it: how it ended (running, succeeded, skipped, failed, awaiting_retry),
/// its times, and what the run returned.</summary>
public sealed record JobRun(
    string Id,
    string Job,
    string Outcome,
    DateTime? StartedAt,
    DateTime? FinishedAt,
    double? DurationMs,
    long RowsTouched,
    long FilesTouched,
    string? Summary,
    string? Error,
    double? Progress,
    string? ProgressMessage,
    string? Server);

/// <summary>One job: its recurring schedule and its newest runs.</summary>
public sealed record JobView(
    string Name,
    string Description,
    string Schedule,
    DateTime? NextRun,
    DateTime? PreviousRun,
    bool Paused,
    string State,
    bool Running,
    IReadOnlyList<JobRun> LastRuns);

/// <summary>Every job, and whether this instance and the cluster run a Hangfire server.</summary>
public sealed record JobsOverview(bool SchedulerEnabled, IReadOnlyList<string> Servers, string Dashboard, IReadOnlyList<JobView> Jobs);

public enum JobCommandResult
{
    Done,
    UnknownJob,
    NoServer,
}

/// <summary>What the jobs API does, over Hangfire's monitoring API and recurring job manager: list jobs with their
/// schedule and history, run one now, pause or resume one.</summary>
public sealed class MaintenanceJobs(MaintenanceJobRunner runner, JobStorage storage, IRecurringJobManagerV2 recurring, IOptions<JobsOptions> options)
{
    public const string DashboardPath = "/hangfire";

    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Skipped = "skipped";
    public const string Failed = "failed";
    public const string AwaitingRetry = "awaiting_retry";

    private static readonly JsonSerializerOptions ResultJson = new() { PropertyNameCaseInsensitive = true };

    public static string CronOf(IMaintenanceJob job, JobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        return options.Schedules.TryGetValue(job.Name, out var cron) && !string.IsNullOrWhiteSpace(cron) ? cron.Trim() : job.DefaultCron;
    }

    /// <summary>The one place a maintenance job becomes a Hangfire recurring job: its name is the id, its runs go
    /// through the runner, times are UTC.</summary>
    public static void Schedule(IRecurringJobManager recurring, string name, string cron)
    {
        ArgumentNullException.ThrowIfNull(recurring);
        recurring.AddOrUpdate<MaintenanceJobRunner>(name, r => r.RunAsync(name, null, CancellationToken.None), cron,
            new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }

    // Hangfire has no paused state for a recurring job: a paused one keeps its id, history and dashboard row with a
    // schedule that never fires, and resuming puts the configured schedule back.
    public static bool IsPaused(RecurringJobDto job) => job?.Cron == Cron.Never();

    public Task<JobsOverview> ListAsync(int lastRuns, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var perJob = Math.Clamp(lastRuns, 1, 100);
        var monitoring = storage.GetMonitoringApi();
        List<RecurringJobDto> schedules;
        using (var connection = storage.GetConnection()) schedules = connection.GetRecurringJobs();
        var history = History(monitoring);

        var views = new List<JobView>();
        foreach (var job in runner.Jobs)
        {
            var schedule = schedules.FirstOrDefault(r => r.Id == job.Name);
            var paused = schedule is not null && IsPaused(schedule);
            var runs = history.TryGetValue(job.Name, out var all) ? all : [];
            var last = runs.OrderByDescending(r => r.StartedAt ?? r.FinishedAt).Take(perJob).ToList();
            views.Add(new JobView(job.Name, job.Description, CronOf(job, options.Value),
                paused ? null : schedule?.NextExecution, schedule?.LastExecution, paused,
                schedule is null ? "not_scheduled" : paused ? "paused" : "scheduled",
                last.Any(r => r.Outcome == Running), last));
        }

        var servers = monitoring.Servers().Select(s => s.Name).Order(StringComparer.Ordinal).ToList();
        return Task.FromResult(new JobsOverview(options.Value.Enabled, servers, DashboardPath, views));
    }

    /// <summary>Queues a run now on whichever server takes it; a run of the job already in progress makes it a
    /// skipped run.</summary>
    public Task<JobCommandResult> TriggerAsync(string name, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (runner.Find(name) is not { } job) return Task.FromResult(JobCommandResult.UnknownJob);
        // This instance's own server may not have announced itself yet in its first moments.
        if (!options.Value.Enabled && storage.GetMonitoringApi().Servers().Count == 0) return Task.FromResult(JobCommandResult.NoServer);
        using (var connection = storage.GetConnection())
        {
            // The servers register the recurring jobs when they start; one started before this job existed has not.
            if (connection.GetRecurringJobs([name]).Count == 0) Schedule(recurring, name, CronOf(job, options.Value));
        }

        recurring.TriggerJob(name);
        return Task.FromResult(JobCommandResult.Done);
    }

    /// <summary>Stops scheduled runs until resumed (kept in Hangfire's storage, so across restarts); a run asked for
    /// by hand still runs.</summary>
    public Task<JobCommandResult> PauseAsync(string name, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (runner.Find(name) is null) return Task.FromResult(JobCommandResult.UnknownJob);
        Schedule(recurring, name, Cron.Never());
        return Task.FromResult(JobCommandResult.Done);
    }

    public Task<JobCommandResult> ResumeAsync(string name, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (runner.Find(name) is not { } job) return Task.FromResult(JobCommandResult.UnknownJob);
        Schedule(recurring, name, CronOf(job, options.Value));
        return Task.FromResult(JobCommandResult.Done);
    }

    /// <summary>The runs Hangfire still holds (succeeded and failed ones expire after a day), by job name.</summary>
    private Dictionary<string, List<JobRun>> History(IMonitoringApi monitoring)
    {
        var scan = Math.Max(1, options.Value.HistoryScan);
        var runs = new Dictionary<string, List<JobRun>>(StringComparer.Ordinal);
        void Add(Job? job, Func<string, JobRun> make)
        {
            if (job?.Type != typeof(MaintenanceJobRunner) || job.Args.Count == 0 || job.Args[0] is not string name) return;
            if (!runs.TryGetValue(name, out var list)) runs[name] = list = [];
            list.Add(make(name));
        }

        using var connection = storage.GetConnection();
        foreach (var (id, dto) in monitoring.ProcessingJobs(0, 100))
        {
            Add(dto.Job, name =>
            {
                var progress = Deserialize<JobProgress>(connection.GetJobParameter(id, MaintenanceJobRunner.ProgressParameter));
                var duration = dto.StartedAt is { } s ? (DateTime.UtcNow - s).TotalMilliseconds : (double?)null;
                return new JobRun(id, name, Running, dto.StartedAt, null, duration, 0, 0, null, null,
                    progress?.Fraction ?? 0, progress?.Message, dto.ServerId);
            });
        }

        foreach (var (id, dto) in monitoring.SucceededJobs(0, scan))
        {
            Add(dto.Job, name =>
            {
                var outcome = Deserialize<JobOutcome>(dto.Result as string);
                var duration = dto.StateData is { } data && data.TryGetValue("PerformanceDuration", out var ms)
                    && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : (double?)dto.TotalDuration;
                return new JobRun(id, name, outcome?.Skipped == true ? Skipped : Succeeded, dto.SucceededAt?.AddMilliseconds(-(duration ?? 0)),
                    dto.SucceededAt, duration, outcome?.RowsTouched ?? 0, outcome?.FilesTouched ?? 0, outcome?.Summary, null, 1, null, null);
            });
        }

        foreach (var (id, dto) in monitoring.FailedJobs(0, scan))
        {
            Add(dto.Job, name => new JobRun(id, name, Failed, null, dto.FailedAt, null, 0, 0, null,
                $"{dto.ExceptionType}: {dto.ExceptionMessage}", null, null, null));
        }

        foreach (var (id, dto) in monitoring.ScheduledJobs(0, scan))
        {
            // A failed attempt waiting for its retry: the error is the failed state just before.
            Add(dto.Job, name =>
            {
                var failure = monitoring.JobDetails(id)?.History?.FirstOrDefault(h => h.StateName == "Failed");
                var error = failure?.Data is { } data && data.TryGetValue("ExceptionMessage", out var message)
                    ? $"{(data.TryGetValue("ExceptionType", out var type) ? type : "Exception")}: {message}" : failure?.Reason;
                return new JobRun(id, name, AwaitingRetry, null, failure?.CreatedAt, null, 0, 0, null, error, null, null, null);
            });
        }

        return runs;
    }

    private static T? Deserialize<T>(string? json) where T : class
    {
        if (string.IsNullOrEmpty(json)) return null;
        try
        {
            return JsonSerializer.Deserialize<T>(json, ResultJson);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
