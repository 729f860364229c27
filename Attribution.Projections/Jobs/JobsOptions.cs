namespace Attribution.Projections.Jobs;

/// <summary>Configuration section "Jobs".</summary>
public sealed class JobsOptions
{
    /// <summary>False runs no scheduler in this process (tests, or a node that only serves traffic); the jobs API
    /// still lists the jobs and their history.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Cron per job name, overriding the job's default, e.g. <c>Jobs:Schedules:export-bronze = 0 */5 * * * ?</c>.</summary>
    public Dictionary<string, string> Schedules { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Jobs run at the same time by one instance (each job itself never runs twice at once).</summary>
    public int MaxConcurrency { get; set; } = 2;

    /// <summary>Runs kept in job_runs per job.</summary>
    public int HistoryPerJob { get; set; } = 200;

    /// <summary>How often a running job's progress is written.</summary>
    public double ProgressIntervalSeconds { get; set; } = 1;

    /// <summary>Cluster check-in interval: how soon a dead instance's jobs are recovered by another.</summary>
    public double ClusterCheckinSeconds { get; set; } = 10;
}
