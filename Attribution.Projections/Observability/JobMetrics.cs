using Prometheus;

namespace Attribution.Projections.Observability;

/// <summary>
/// Instruments of the maintenance jobs and the Iceberg tables they write, defined here so the dashboards and alerts
/// can name them before the jobs exist. The jobs call <see cref="JobFinished"/> once per run and
/// <see cref="SnapshotCommitted"/> once per Iceberg commit; nothing else is needed for the Prometheus series
/// <c>attribution_jobs_runs_total</c>, <c>attribution_jobs_duration_seconds</c>, <c>attribution_jobs_rows_total</c>,
/// <c>attribution_lakehouse_snapshots_total</c>, <c>attribution_lakehouse_files_written_total</c>,
/// <c>attribution_lakehouse_data_files</c> and <c>attribution_lakehouse_table_snapshots</c>.
/// </summary>
public sealed class JobMetrics
{
    /// <summary>Outcome label values: a run either succeeded or failed; a skipped run (nothing to do) is a success.</summary>
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <param name="registry">The host's registry (see <see cref="PipelineMetrics"/>).</param>
    public JobMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.NewCustomRegistry());
        Runs = factory.CreateCounter("attribution_jobs_runs_total", "Maintenance job runs, by job and outcome", "job", "outcome");
        Duration = factory.CreateHistogram("attribution_jobs_duration_seconds", "Maintenance job run time, by job and outcome",
            ["job", "outcome"], new HistogramConfiguration { Buckets = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] });
        Rows = factory.CreateCounter("attribution_jobs_rows_total", "Rows a maintenance job read or wrote, by job", "job");
        Snapshots = factory.CreateCounter("attribution_lakehouse_snapshots_total",
            "Iceberg snapshots committed, by table and operation (append, overwrite, replace, delete)", "table", "operation");
        FilesWritten = factory.CreateCounter("attribution_lakehouse_files_written_total", "Parquet data files written to Iceberg tables, by table", "table");
        DataFiles = factory.CreateGauge("attribution_lakehouse_data_files", "Data files referenced by the current snapshot, by table", "table");
        TableSnapshots = factory.CreateGauge("attribution_lakehouse_table_snapshots", "Snapshots kept in the table metadata (what expiry trims), by table", "table");
    }

    public Counter Runs { get; }
    public Histogram Duration { get; }
    public Counter Rows { get; }
    public Counter Snapshots { get; }
    public Counter FilesWritten { get; }
    public Gauge DataFiles { get; }
    public Gauge TableSnapshots { get; }

    /// <summary>One finished run of <paramref name="job"/> (e.g. "export-bronze").</summary>
    public void JobFinished(string job, bool succeeded, TimeSpan duration, long rows = 0)
    {
        var outcome = succeeded ? Succeeded : Failed;
        Runs.WithLabels(job, outcome).Inc();
        Duration.WithLabels(job, outcome).Observe(duration.TotalSeconds);
        if (rows > 0) Rows.WithLabels(job).Inc(rows);
    }

    /// <summary>One committed snapshot of <paramref name="table"/> (e.g. "bronze.ad_events") and the table's state after it.</summary>
    public void SnapshotCommitted(string table, string operation, int filesWritten, long dataFiles, long snapshotsKept)
    {
        Snapshots.WithLabels(table, operation).Inc();
        FilesWritten.WithLabels(table).Inc(filesWritten);
        DataFiles.WithLabels(table).Set(dataFiles);
        TableSnapshots.WithLabels(table).Set(snapshotsKept);
    }
}
