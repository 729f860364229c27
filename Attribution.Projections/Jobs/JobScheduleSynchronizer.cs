using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Quartz;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Puts every registered job into the persistent store with its cron trigger at start. A trigger whose cron is
/// unchanged is left alone, so a pause made through the API survives restarts; a changed cron replaces the trigger
/// and keeps its paused state. Jobs of the maintenance group that no longer exist in the code are deleted.
/// </summary>
internal sealed class JobScheduleSynchronizer(
    ISchedulerFactory factory, MaintenanceJobRunner runner, IOptions<JobsOptions> options, ILogger<JobScheduleSynchronizer> logger)
    : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = await factory.GetScheduler(cancellationToken);
        foreach (var job in runner.Jobs)
        {
            var cron = MaintenanceJobs.CronOf(job, options.Value);
            var triggerKey = MaintenanceJobs.TriggerKeyOf(job.Name);
            var existing = await scheduler.GetTrigger(triggerKey, cancellationToken) as ICronTrigger;
            if (existing is not null && existing.CronExpressionString == cron && await scheduler.Exists(MaintenanceJobs.JobKeyOf(job.Name), cancellationToken))
                continue;
            var paused = existing is not null && await scheduler.GetTriggerState(triggerKey, cancellationToken) == TriggerState.Paused;
            var detail = JobBuilder.Create<QuartzMaintenanceJob>()
                .WithIdentity(MaintenanceJobs.JobKeyOf(job.Name))
                .WithDescription(job.Description)
                .StoreDurably()
                .DisallowConcurrentExecution()
                .Build();
            var trigger = TriggerBuilder.Create()
                .WithIdentity(triggerKey)
                .ForJob(detail.Key)
                // A run missed while every instance was down happens once at start, not once per missed minute.
                .WithCronSchedule(cron, b => b.WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
            await scheduler.ScheduleJob(detail, trigger, new ScheduleJobOptions { Replace = true, Paused = paused }, cancellationToken);
            logger.LogInformation("Job {Job} scheduled: {Cron}{Paused}", job.Name, cron, paused ? " (paused)" : "");
        }

        var known = runner.Jobs.Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var key in (await scheduler.QueryJobs(new JobQuery { Group = GroupMatcher<JobKey>.GroupEquals(QuartzMaintenanceJob.Group) }, cancellationToken)).Items.Select(h => h.Key))
        {
            if (known.Contains(key.Name)) continue;
            await scheduler.DeleteJob(key, cancellationToken);
            logger.LogInformation("Job {Job} is no longer registered; removed from the schedule", key.Name);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
