namespace Attribution.Projections.Jobs;

/// <summary>
/// A maintenance job: one small class, registered with <see cref="MaintenanceJobsServiceCollectionExtensions.AddMaintenanceJob{TJob}"/>.
/// The scheduler, the run history, the jobs API and the /jobs page pick it up from there; nothing else needs to know.
/// </summary>
public interface IMaintenanceJob
{
    /// <summary>Unique and URL-safe (e.g. <c>export-bronze</c>): the Quartz job key, the API route segment and the
    /// key under <c>Jobs:Schedules</c>.</summary>
    string Name { get; }

    /// <summary>One line for the jobs page.</summary>
    string Description { get; }

    /// <summary>Quartz cron expression (seconds first), used unless <c>Jobs:Schedules:&lt;name&gt;</c> says otherwise.</summary>
    string DefaultCron { get; }

    /// <summary>Does the work. Never runs twice at once across the cluster. Throwing marks the run failed with the
    /// exception's message; cancellation means the service is stopping.</summary>
    Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct);
}

/// <summary>Progress of a run, shown on the jobs page while it runs.</summary>
public interface IJobProgress
{
    /// <param name="fraction">0 to 1.</param>
    /// <param name="message">What the job is doing, e.g. "12,000 rows exported".</param>
    void Report(double fraction, string? message = null);
}

/// <summary>What a successful run touched: rows read or written, files written or deleted, and one line about it.</summary>
public sealed record JobOutcome(long RowsTouched, long FilesTouched, string? Summary = null);
