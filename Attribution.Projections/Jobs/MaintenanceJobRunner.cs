using System.Diagnostics;
using Attribution.Projections.Observability;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Jobs;

/// <summary>
/// What Hangfire runs for every maintenance job: one run of the named <see cref="IMaintenanceJob"/> under a lock that
/// spans every instance, its progress written to the job's <c>progress</c> parameter, its outcome returned as the
/// job's result, and the job metrics recorded.
/// </summary>
public sealed class MaintenanceJobRunner(
    NpgsqlDataSource dataSource,
    IEnumerable<IMaintenanceJob> jobs,
    JobMetrics metrics,
    IOptions<JobsOptions> options,
    ILogger<MaintenanceJobRunner> logger)
{
    /// <summary>The job parameter that holds a running job's progress.</summary>
    public const string ProgressParameter = "progress";

    // Two-key advisory locks live apart from the single-bigint keys the pipeline uses.
    private const int LockClass = 0x4A4F_4253;

    private readonly IReadOnlyList<IMaintenanceJob> _jobs = ValidateNames(jobs.ToList());

    public IReadOnlyList<IMaintenanceJob> Jobs => _jobs;

    public IMaintenanceJob? Find(string name) => _jobs.FirstOrDefault(j => j.Name == name);

    /// <summary>
    /// Runs the job once. A run of the same job already in progress anywhere makes this one a skipped run: the
    /// lock is a PostgreSQL session lock, not Hangfire's distributed lock, because the storage's lock expires after
    /// its DistributedLockTimeout (a compaction may run longer) and outlives a killed holder until then, where a
    /// session lock ends exactly with its connection. Failures throw, so Hangfire records them and retries with
    /// backoff: every job is safe to repeat (exports resume from their mark, compaction and expiry recompute).
    /// </summary>
    /// <param name="name">The job.</param>
    /// <param name="context">Hangfire's, for the progress parameter; null when called directly.</param>
    /// <param name="ct">Stops the job: the service is shutting down.</param>
    [JobDisplayName("{0}")]
    [AutomaticRetry(Attempts = 3, DelaysInSeconds = [30, 120, 600])]
    public async Task<JobOutcome> RunAsync(string name, PerformContext? context, CancellationToken ct)
    {
        var job = Find(name) ?? throw new ArgumentException($"No maintenance job is named '{name}'.", nameof(name));
        await using var lockConn = await dataSource.OpenConnectionAsync(ct);
        if (!await LockAsync(lockConn, "pg_try_advisory_lock", name, ct))
        {
            logger.LogInformation("Job {Job} is already running elsewhere; this run is skipped", name);
            return new JobOutcome(0, 0, "skipped: another run of this job was in progress", Skipped: true);
        }

        var started = Stopwatch.GetTimestamp();
        var succeeded = false;
        long rows = 0;
        try
        {
            var progress = new RunProgress(context, TimeSpan.FromSeconds(Math.Max(0.05, options.Value.ProgressIntervalSeconds)), logger);
            JobOutcome outcome;
            try
            {
                outcome = await job.RunAsync(progress, ct);
            }
            finally
            {
                await progress.DisposeAsync();
            }

            succeeded = true;
            rows = outcome.RowsTouched;
            logger.LogInformation("Job {Job} succeeded in {Ms:0} ms: {Summary}", name, Stopwatch.GetElapsedTime(started).TotalMilliseconds, outcome.Summary);
            return outcome;
        }
        finally
        {
            metrics.JobFinished(name, succeeded, Stopwatch.GetElapsedTime(started), rows);
            await LockAsync(lockConn, "pg_advisory_unlock", name, CancellationToken.None);
            if (JobMemory.ReleaseAfterRun() is { } released)
                logger.LogDebug("Job {Job}: {MiB:0.0} MiB of freed C heap given back to the system", name, released / 1048576.0);
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
        private readonly PerformContext? _context;
        private readonly ILogger _logger;
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _gate = new();
        private readonly Task _loop;
        private JobProgress? _pending;

        public RunProgress(PerformContext? context, TimeSpan interval, ILogger logger)
        {
            _context = context;
            _logger = logger;
            _loop = context is null ? Task.CompletedTask : LoopAsync(interval);
        }

        public void Report(double fraction, string? message = null)
        {
            lock (_gate) _pending = new JobProgress(double.IsFinite(fraction) ? Math.Clamp(fraction, 0, 1) : 0, message);
        }

        private async Task LoopAsync(TimeSpan interval)
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token)) Flush();
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }
        }

        private void Flush()
        {
            JobProgress? next;
            lock (_gate)
            {
                next = _pending;
                _pending = null;
            }

            if (next is null || _context is null) return;
            try
            {
                _context.SetJobParameter(ProgressParameter, next);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                _logger.LogWarning(e, "Could not record the progress of job {Job}", _context.BackgroundJob.Id);
            }
        }

        public async ValueTask DisposeAsync()
        {
            // No last flush: the succeeded state carries the outcome.
            await _stop.CancelAsync();
            await _loop;
            _stop.Dispose();
        }
    }
}

/// <summary>A running job's progress as its job parameter holds it.</summary>
public sealed record JobProgress(double Fraction, string? Message);
