namespace Attribution.Projections.Jobs;

/// <summary>Configuration section "Jobs".</summary>
public sealed class JobsOptions
{
    /// <summary>False runs no Hangfire server in this process (tests, or a node that only serves traffic); the jobs
    /// API and the dashboard still list the jobs and their history, and a run asked for here is queued for a server
    /// elsewhere.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron per job name, overriding the job's default (Hangfire's cron: five fields, or six with seconds
    /// first), e.g. <c>Jobs:Schedules:export-bronze = */5 * * * *</c>.</summary>
    public Dictionary<string, string> Schedules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The PostgreSQL schema of Hangfire's tables, in the service's own database.</summary>
    public string Schema { get; set; } = "hangfire";

    /// <summary>Jobs one instance runs at the same time (each job itself never runs twice at once).</summary>
    public int WorkerCount { get; set; } = 2;

    /// <summary>How often the server looks for recurring and retried jobs that are due.</summary>
    public double SchedulePollingSeconds { get; set; } = 5;

    /// <summary>How often an idle worker looks for queued jobs when no notification woke it.</summary>
    public double QueuePollSeconds { get; set; } = 5;

    /// <summary>How long one of Hangfire's own locks may be held before another instance takes it over: what a killed
    /// instance's lock blocks for.</summary>
    public double LockTimeoutSeconds { get; set; } = 60;

    /// <summary>How often a running job's progress is written to its job parameters.</summary>
    public double ProgressIntervalSeconds { get; set; } = 1;

    /// <summary>Runs of a job the jobs API looks through for its history, per state (succeeded, failed).</summary>
    public int HistoryScan { get; set; } = 2000;
}
