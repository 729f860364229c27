using Attribution.Projections.Lakehouse.Parquet;

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

    /// <summary>The data files' page codec: Zstd (default), Snappy, Gzip or Uncompressed.</summary>
    public ParquetCompression Compression { get; set; } = ParquetCompression.Zstd;

    /// <summary>The codec's level for Zstd and Gzip (ignored by the others). Level 3 writes ZSTD about as fast as
    /// Snappy with smaller files; the codecs' own defaults were many times slower (docs/BENCHMARKS.md).</summary>
    public int? CompressionLevel { get; set; } = 3;

    /// <summary>Rows per Parquet row group.</summary>
    public int RowsPerRowGroup { get; set; } = 100_000;

    /// <summary>Data pages close at about this many encoded bytes (Arrow's default, 1 MiB).</summary>
    public long PageSizeBytes { get; set; } = 1L << 20;

    /// <summary>A column chunk's dictionary past this size turns its encoding plain: enum-like columns keep theirs,
    /// ids and payloads, which ZSTD compresses better plain, drop it early.</summary>
    public long DictionaryPageSizeBytes { get; set; } = 16L << 10;

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
