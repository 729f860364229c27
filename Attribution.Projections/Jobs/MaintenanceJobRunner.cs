using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Runs one job and records it in job_runs: start, progress while running, outcome, what it touched, error text.
/// A PostgreSQL session lock per job makes a second run of the same job (another instance, or a manual run beside a
/// scheduled one) a recorded 'skipped' instead of a race; Quartz's non-concurrent jobs make that rare already.
/// </summary>
public sealed class MaintenanceJobRunner(
    NpgsqlDataSource dataSource,
    IEnumerable<IMaintenanceJob> jobs,
    JobRunStore runs,
    IOptions<JobsOptions> options,
    ILogger<MaintenanceJobRunner> logger)
{
    // Two-key advisory locks live apart from the single-bigint keys the pipeline uses.
    private const int LockClass = 0x4A4F_4253;

    private readonly IReadOnlyList<IMaintenanceJob> _jobs = ValidateNames(jobs.ToList());

    public IReadOnlyList<IMaintenanceJob> Jobs => _jobs;

    /// <summary>Which process ran a job, as the history shows it.</summary>
    public static string InstanceId { get; } = string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}:{Environment.ProcessId}");

    public IMaintenanceJob? Find(string name) => _jobs.FirstOrDefault(j => j.Name == name);

    /// <param name="name">The job.</param>
    /// <param name="trigger">How it was started: schedule, manual, recovery, direct.</param>
    /// <param name="ct">Stops the job: the service is shutting down.</param>
    public async Task<JobRun> RunAsync(string name, string trigger, CancellationToken ct)
    {
        var job = Find(name) ?? throw new ArgumentException($"No maintenance job is named '{name}'.", nameof(name));
        await using var lockConn = await dataSource.OpenConnectionAsync(ct);
        if (!await LockAsync(lockConn, "pg_try_advisory_lock", name, ct))
        {
            logger.LogInformation("Job {Job} is already running elsewhere; this {Trigger} run is skipped", name, trigger);
            return await runs.RecordSkippedAsync(name, trigger, InstanceId, "another run of this job was in progress", ct);
        }

        try
        {
            var runId = await runs.StartAsync(name, trigger, InstanceId, ct);
            logger.LogInformation("Job {Job} started ({Trigger}, run {Run})", name, trigger, runId);
            JobRun finished;
            var progress = new RunProgress(runs, runId, TimeSpan.FromSeconds(Math.Max(0.05, options.Value.ProgressIntervalSeconds)), logger);
            try
            {
                JobOutcome outcome;
                try
                {
                    outcome = await job.RunAsync(progress, ct);
                }
                finally
                {
                    await progress.DisposeAsync();
                }

                finished = await runs.FinishAsync(runId, JobRunStore.Succeeded, outcome, null, CancellationToken.None);
                logger.LogInformation("Job {Job} succeeded in {Ms:0} ms: {Summary}", name, finished.DurationMs, outcome.Summary);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await runs.FinishAsync(runId, JobRunStore.Cancelled, null, "the service stopped while the job was running", CancellationToken.None);
                throw;
            }
            catch (Exception e)
            {
                // The page shows the message; the log keeps the stack.
                logger.LogError(e, "Job {Job} failed (run {Run})", name, runId);
                finished = await runs.FinishAsync(runId, JobRunStore.Failed, null, $"{e.GetType().Name}: {e.Message}", CancellationToken.None);
            }

            await runs.PruneAsync(name, options.Value.HistoryPerJob, CancellationToken.None);
            if (JobMemory.ReleaseAfterRun() is { } released)
                logger.LogDebug("Job {Job}: {MiB:0.0} MiB of freed C heap given back to the system", name, released / 1048576.0);
            return finished;
        }
        finally
        {
            await LockAsync(lockConn, "pg_advisory_unlock", name, CancellationToken.None);
        }
    }

    private static async Task<bool> LockAsync(NpgsqlConnection conn, string function, string name, CancellationToken ct)
    {
        // function is one of two constants above, never input.
        await using var cmd = new NpgsqlCommand($"SELECT {function}($1, hashtext($2))", conn);
        cmd.Parameters.Add(new() { Value = LockClass });
        cmd.Parameters.Add(new() { Value = name });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static List<IMaintenanceJob> ValidateNames(List<IMaintenanceJob> jobs)
    {
        foreach (var job in jobs)
        {
            if (string.IsNullOrEmpty(job.Name) || !job.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                throw new InvalidOperationException($"Job name '{job.Name}' must be lower-case letters, digits and dashes.");
        }

        var duplicate = jobs.GroupBy(j => j.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"Two maintenance jobs are named '{duplicate.Key}'.");
        return jobs;
    }

    /// <summary>Keeps the latest report and writes it every interval, so a job can report per row at no cost.</summary>
    private sealed class RunProgress : IJobProgress, IAsyncDisposable
    {
        private readonly JobRunStore _runs;
        private readonly long _runId;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _gate = new();
        private readonly Task _loop;
        private (double Fraction, string? Message)? _pending;

        public RunProgress(JobRunStore runs, long runId, TimeSpan interval, ILogger logger)
        {
            _runs = runs;
            _runId = runId;
            _logger = logger;
            _loop = LoopAsync(interval);
        }

        public void Report(double fraction, string? message = null)
        {
            lock (_gate) _pending = (double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0, message);
        }

        private async Task LoopAsync(TimeSpan interval)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token)) await FlushAsync();
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }
        }

        private async Task FlushAsync()
        {
            (double Fraction, string? Message)? next;
            lock (_gate)
            {
                next = _pending;
                _pending = null;
            }

            if (next is not { } p) return;
            try
            {
                await _runs.ReportAsync(_runId, p.Fraction, p.Message, _stop.Token);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                _logger.LogWarning(e, "Could not record the progress of run {Run}", _runId);
            }
        }

        public async ValueTask DisposeAsync()
        {
            // No last flush: the finished run records its own progress and summary.
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}
