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
    ILogger<RecurringJobsSynchronizer> logger) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _retrying;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // A service killed while it held one of Hangfire's locks (Hangfire.PostgreSql keeps a lock as a row until
        // Jobs:LockTimeoutSeconds has passed) must still start: the schedule is made in the background then.
        if (!TrySynchronize()) _retrying = RetryAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_retrying is { } retrying) await retrying.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public void Dispose() => _stopping.Dispose();

    private async Task RetryAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromSeconds(5), ct).ContinueWith(_ => { }, TaskScheduler.Default);
            if (!ct.IsCancellationRequested && TrySynchronize()) return;
        }
    }

    private bool TrySynchronize()
    {
        try
        {
            Synchronize();
            return true;
        }
        catch (Hangfire.PostgreSql.PostgreSqlDistributedLockException e)
        {
            logger.LogWarning("The recurring jobs could not be scheduled yet ({Reason}); trying again in 5 s", e.Message);
            return false;
        }
    }

    private void Synchronize()
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
    }
}
