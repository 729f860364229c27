using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Attribution.Projections.Observability;

/// <summary>
/// Instruments of the maintenance jobs and the Iceberg tables they write, defined here so the dashboards and alerts
/// can name them before the jobs exist. The jobs call <see cref="JobFinished"/> once per run and
/// <see cref="SnapshotCommitted"/> once per Iceberg commit; nothing else is needed for the Prometheus series
/// <c>attribution_jobs_runs_total</c>, <c>attribution_jobs_duration_seconds</c>, <c>attribution_jobs_rows_total</c>,
/// <c>attribution_lakehouse_snapshots_total</c>, <c>attribution_lakehouse_files_written_total</c>,
/// <c>attribution_lakehouse_data_files</c> and <c>attribution_lakehouse_table_snapshots</c>.
/// </summary>
public sealed class JobMetrics : IDisposable
{
    public const string MeterName = "Attribution.Jobs";

    /// <summary>Outcome label values: a run either succeeded or failed; a skipped run (nothing to do) is a success.</summary>
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, (long Snapshots, long DataFiles)> _tables = new(StringComparer.Ordinal);

    public JobMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        Runs = _meter.CreateCounter<long>("attribution.jobs.runs", "{run}", "Maintenance job runs, by job and outcome");
        Duration = _meter.CreateHistogram("attribution.jobs.duration", "s", "Maintenance job run time, by job and outcome",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800] });
        Rows = _meter.CreateCounter<long>("attribution.jobs.rows", "{row}", "Rows a maintenance job read or wrote, by job");
        Snapshots = _meter.CreateCounter<long>("attribution.lakehouse.snapshots", "{snapshot}",
            "Iceberg snapshots committed, by table and operation (append, overwrite, replace, delete)");
        FilesWritten = _meter.CreateCounter<long>("attribution.lakehouse.files.written", "{file}",
            "Parquet data files written to Iceberg tables, by table");
        _meter.CreateObservableGauge("attribution.lakehouse.data_files", () => Observe(t => t.DataFiles), "{file}",
            "Data files referenced by the current snapshot, by table");
        _meter.CreateObservableGauge("attribution.lakehouse.table_snapshots", () => Observe(t => t.Snapshots), "{snapshot}",
            "Snapshots kept in the table metadata (what expiry trims), by table");
    }

    public Counter<long> Runs { get; }
    public Histogram<double> Duration { get; }
    public Counter<long> Rows { get; }
    public Counter<long> Snapshots { get; }
    public Counter<long> FilesWritten { get; }

    /// <summary>One finished run of <paramref name="job"/> (e.g. "export-bronze").</summary>
    public void JobFinished(string job, bool succeeded, TimeSpan duration, long rows = 0)
    {
        var tags = new[]
        {
            new KeyValuePair<string, object?>("job", job),
            new KeyValuePair<string, object?>("outcome", succeeded ? Succeeded : Failed),
        };
        Runs.Add(1, tags);
        Duration.Record(duration.TotalSeconds, tags);
        if (rows > 0) Rows.Add(rows, new KeyValuePair<string, object?>("job", job));
    }

    /// <summary>One committed snapshot of <paramref name="table"/> (e.g. "bronze.ad_events") and the table's state after it.</summary>
    public void SnapshotCommitted(string table, string operation, int filesWritten, long dataFiles, long snapshotsKept)
    {
        Snapshots.Add(1, new KeyValuePair<string, object?>("table", table), new KeyValuePair<string, object?>("operation", operation));
        FilesWritten.Add(filesWritten, new KeyValuePair<string, object?>("table", table));
        _tables[table] = (snapshotsKept, dataFiles);
    }

    public void Dispose() => _meter.Dispose();

    private IEnumerable<Measurement<long>> Observe(Func<(long Snapshots, long DataFiles), long> pick)
    {
        foreach (var (table, state) in _tables)
            yield return new Measurement<long>(pick(state), new KeyValuePair<string, object?>("table", table));
    }
}
