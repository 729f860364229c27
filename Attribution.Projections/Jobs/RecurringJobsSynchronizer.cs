using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Makes Hangfire's recurring jobs the registered maintenance jobs at start, each under its own name with the
/// schedule configuration gives it: a paused job stays paused (see <see cref="MaintenanceJobs.PauseAsync"/>), and a
/// recurring job whose maintenance job no longer exists in the code is removed.
/// </summary>
internal sealed class RecurringJobsSynchronizer(
    JobStorage storage, IRecurringJobManager recurring, MaintenanceJobRunner runner, IOptions<JobsOptions> options,
    ILogger<RecurringJobsSynchronizer> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        List<RecurringJobDto> existing;
        using (var connection = storage.GetConnection()) existing = connection.GetRecurringJobs();
        foreach (var job in runner.Jobs)
        {
            var paused = existing.Any(r => r.Id == job.Name && MaintenanceJobs.IsPaused(r));
            var cron = MaintenanceJobs.CronOf(job, options.Value);
            MaintenanceJobs.Schedule(recurring, job.Name, paused ? Cron.Never() : cron);
            logger.LogInformation("Job {Job} scheduled: {Cron}{Paused}", job.Name, cron, paused ? " (paused)" : "");
        }

        foreach (var gone in existing.Where(r => runner.Find(r.Id) is null))
        {
            recurring.RemoveIfExists(gone.Id);
            logger.LogInformation("Job {Job} is no longer registered; removed from the schedule", gone.Id);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
