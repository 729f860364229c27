using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Quartz;

namespace Attribution.Projections.Jobs;

/// <summary>One job as the jobs page shows it.</summary>
public sealed record JobView(
    string Name,
    string Description,
    string Schedule,
    DateTimeOffset? NextRun,
    DateTimeOffset? PreviousRun,
    bool Paused,
    string State,
    bool Running,
    IReadOnlyList<JobRun> LastRuns);

/// <summary>The scheduler and every job.</summary>
public sealed record JobsOverview(bool SchedulerEnabled, string? SchedulerStatus, string? SchedulerInstanceId, string ThisInstance, IReadOnlyList<JobView> Jobs);

public enum JobCommandResult
{
    Done,
    UnknownJob,
    SchedulerDisabled,
}

/// <summary>What the jobs API does: list jobs with their schedule and history, run one now, pause or resume one.</summary>
public sealed class MaintenanceJobs(MaintenanceJobRunner runner, JobRunStore runs, IOptions<JobsOptions> options, IServiceProvider services)
{
    public static JobKey JobKeyOf(string name) => new(name, QuartzMaintenanceJob.Group);

    public static TriggerKey TriggerKeyOf(string name) => new(name, QuartzMaintenanceJob.Group);

    public static string CronOf(IMaintenanceJob job, JobsOptions options)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(options);
        return options.Schedules.TryGetValue(job.Name, out var cron) && !string.IsNullOrWhiteSpace(cron) ? cron.Trim() : job.DefaultCron;
    }

    public async Task<JobsOverview> ListAsync(int lastRuns, CancellationToken ct)
    {
        var scheduler = await SchedulerAsync(ct);
        var history = await runs.LastRunsAsync(runner.Jobs.Select(j => j.Name).ToList(), Math.Clamp(lastRuns, 1, 100), ct);
        var views = new List<JobView>();
        foreach (var job in runner.Jobs)
        {
            ITrigger? trigger = null;
            var state = "not_scheduled";
            if (scheduler is not null)
            {
                trigger = await scheduler.GetTrigger(TriggerKeyOf(job.Name), ct);
                if (trigger is not null) state = (await scheduler.GetTriggerState(trigger.Key, ct)).ToString().ToLowerInvariant();
            }

            var last = history[job.Name];
            views.Add(new JobView(job.Name, job.Description, (trigger as ICronTrigger)?.CronExpressionString ?? CronOf(job, options.Value),
                state == "paused" ? null : trigger?.NextFireTimeUtc, trigger?.PreviousFireTimeUtc, state == "paused", state,
                last.Any(r => r.Outcome == JobRunStore.Running), last));
        }

        return new JobsOverview(scheduler is not null, scheduler?.Status.ToString().ToLowerInvariant(), scheduler?.SchedulerInstanceId,
            MaintenanceJobRunner.InstanceId, views);
    }

    /// <summary>Runs the job now, on whichever instance the scheduler picks; a run in progress finishes first.</summary>
    public async Task<JobCommandResult> TriggerAsync(string name, CancellationToken ct)
    {
        if (runner.Find(name) is null) return JobCommandResult.UnknownJob;
        if (await SchedulerAsync(ct) is not { } scheduler) return JobCommandResult.SchedulerDisabled;
        var data = new JobDataMap();
        data[QuartzMaintenanceJob.TriggerKindKey] = "manual";
        await scheduler.TriggerJob(JobKeyOf(name), data, ct);
        return JobCommandResult.Done;
    }

    /// <summary>Stops scheduled runs until resumed (kept in the job store, so across restarts); manual runs still run.</summary>
    public async Task<JobCommandResult> PauseAsync(string name, CancellationToken ct)
    {
        if (runner.Find(name) is null) return JobCommandResult.UnknownJob;
        if (await SchedulerAsync(ct) is not { } scheduler) return JobCommandResult.SchedulerDisabled;
        await scheduler.PauseJob(JobKeyOf(name), ct);
        return JobCommandResult.Done;
    }

    public async Task<JobCommandResult> ResumeAsync(string name, CancellationToken ct)
    {
        if (runner.Find(name) is null) return JobCommandResult.UnknownJob;
        if (await SchedulerAsync(ct) is not { } scheduler) return JobCommandResult.SchedulerDisabled;
        await scheduler.ResumeJob(JobKeyOf(name), ct);
        return JobCommandResult.Done;
    }

    private async Task<IScheduler?> SchedulerAsync(CancellationToken ct) =>
        options.Value.Enabled && services.GetService<ISchedulerFactory>() is { } factory ? await factory.GetScheduler(ct) : null;
}
