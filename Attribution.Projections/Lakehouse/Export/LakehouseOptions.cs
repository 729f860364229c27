namespace Attribution.Projections.Lakehouse.Export;

/// <summary>Configuration section "Lakehouse".</summary>
public sealed class LakehouseOptions
{
    /// <summary>The Hadoop-catalog warehouse folder; relative paths are taken from the content root.</summary>
    public string WarehousePath { get; set; } = Path.Combine(".data", "warehouse");

    /// <summary>Rows committed per snapshot. A page streams from PostgreSQL straight into data files, so this sets how
    /// much one snapshot covers (and how much a failed step redoes), not how much memory an export takes.</summary>
    public int ExportBatchRows { get; set; } = 50_000;

    /// <summary>Rows per data file at most (one row group at the default). Writers buffer a row group's compressed
    /// pages per open file, so this bounds what an export, overwrite or compaction holds per file.</summary>
    public int MaxRowsPerFile { get; set; } = 100_000;

    /// <summary>Compaction rewrites files smaller than this into files of about this size.</summary>
    public long CompactTargetFileBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Snapshots younger than this stay available for time travel.</summary>
    public double SnapshotRetentionDays { get; set; } = 7;

    /// <summary>The newest snapshots kept whatever their age (the current one always).</summary>
    public int RetainLastSnapshots { get; set; } = 10;

    /// <summary>Unreferenced files younger than this are left alone: they may belong to a commit in flight.</summary>
    public double OrphanFileMinAgeMinutes { get; set; } = 60;

    /// <summary>How long an export waits for in-flight ingest batches (or a Gold replay) before giving up this run.</summary>
    public double BarrierTimeoutSeconds { get; set; } = 30;
}
