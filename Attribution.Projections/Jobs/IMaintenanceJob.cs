namespace Attribution.Projections.Jobs;

/// <summary>
/// A maintenance job: one small class, registered with <see cref="MaintenanceJobsServiceCollectionExtensions.AddMaintenanceJob{TJob}"/>.
/// It becomes a Hangfire recurring job of the same name, with its history in the Hangfire dashboard and the jobs API;
/// nothing else needs to know.
/// </summary>
public interface IMaintenanceJob
{
    /// <summary>Unique and URL-safe (e.g. <c>export-bronze</c>): the Hangfire recurring job id, the API route segment
    /// and the key under <c>Jobs:Schedules</c>.</summary>
    string Name { get; }

    /// <summary>One line for the jobs list.</summary>
    string Description { get; }

    /// <summary>Hangfire cron expression (five fields, or six with seconds first), used unless
    /// <c>Jobs:Schedules:&lt;name&gt;</c> says otherwise; times are UTC.</summary>
    string DefaultCron { get; }

    /// <summary>Does the work. Never runs twice at once across the cluster. Throwing fails the run with the exception
    /// (Hangfire retries it later: every job here is safe to repeat); cancellation means the service is stopping.</summary>
    Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct);
}

/// <summary>Progress of a run, kept as the running job's <c>progress</c> parameter.</summary>
public interface IJobProgress
{
    /// <param name="fraction">0 to 1.</param>
    /// <param name="message">What the job is doing, e.g. "12,000 rows exported".</param>
    void Report(double fraction, string? message = null);
}

/// <summary>What a run touched: rows read or written, files written or deleted, and one line about it; Hangfire keeps
/// it as the succeeded job's result. <paramref name="Skipped"/>: the run did nothing because another run of the same
/// job was in progress.</summary>
public sealed record JobOutcome(long RowsTouched, long FilesTouched, string? Summary = null, bool Skipped = false);
