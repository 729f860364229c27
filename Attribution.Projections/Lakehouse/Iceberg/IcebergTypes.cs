using Attribution.Projections.Lakehouse.Avro;
using Attribution.Projections.Lakehouse.Parquet;

namespace Attribution.Projections.Lakehouse.Iceberg;

public sealed record IcebergTableOptions
{
    public ParquetCompression Compression { get; init; } = ParquetCompression.Zstd;

    /// <summary>The level for ZSTD and GZIP; null takes the codec's default (ParquetWriteOptions.CompressionLevel).</summary>
    public int? CompressionLevel { get; init; } = 3;

    public int RowsPerRowGroup { get; init; } = 100_000;

    /// <summary>Data pages close at about this many encoded bytes.</summary>
    public long PageSizeBytes { get; init; } = 1L << 20;

    /// <summary>Columns fall back from dictionary to plain encoding past this dictionary size (ParquetWriteOptions).</summary>
    public long DictionaryPageSizeBytes { get; init; } = 16L << 10;

    /// <summary>Writes split a partition's rows into files of at most this many rows.</summary>
    public int MaxRowsPerFile { get; init; } = 1_000_000;

    /// <summary>Compaction rewrites files smaller than this into files of about this size.</summary>
    public long TargetFileSizeBytes { get; init; } = 128L * 1024 * 1024;

    public AvroCodec ManifestCodec { get; init; } = AvroCodec.Deflate;

    /// <summary>Previous metadata files kept (and listed in metadata-log); older ones are deleted by snapshot expiry.</summary>
    public int PreviousMetadataVersionsToKeep { get; init; } = 20;

    public TimeProvider Clock { get; init; } = TimeProvider.System;
}

public sealed record CompactionOptions
{
    /// <summary>Defaults to <see cref="IcebergTableOptions.TargetFileSizeBytes"/>.</summary>
    public long? TargetFileSizeBytes { get; init; }

    /// <summary>A partition is rewritten only when it has at least this many files below the target size.</summary>
    public int MinInputFiles { get; init; } = 2;

    /// <summary>Restricts compaction to the partitions this returns true for; all partitions when null.</summary>
    public Func<PartitionKey, bool>? PartitionFilter { get; init; }
}

public sealed record CommitResult(
    long SnapshotId,
    long SequenceNumber,
    int MetadataVersion,
    string Operation,
    int AddedFiles,
    int DeletedFiles,
    long AddedRecords,
    long DeletedRecords);

public sealed record SnapshotInfo(
    long SnapshotId,
    long? ParentSnapshotId,
    long SequenceNumber,
    DateTimeOffset Timestamp,
    string Operation,
    IReadOnlyDictionary<string, string> Summary,
    string ManifestList,
    bool IsCurrent)
{
    public long TotalRecords => long.Parse(Summary["total-records"], System.Globalization.CultureInfo.InvariantCulture);

    public int TotalDataFiles => int.Parse(Summary["total-data-files"], System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A data file of a snapshot with its manifest status (Deleted entries are informational only).</summary>
public sealed record DataFileInfo(
    string Location,
    string LocalPath,
    PartitionKey Partition,
    long RecordCount,
    long FileSizeBytes,
    EntryStatus Status,
    long SnapshotId,
    long DataSequenceNumber);

public sealed record PartitionFieldInfo(int FieldId, string Name, string Transform, string SourceColumn);

public sealed record ExpireResult(IReadOnlyList<long> ExpiredSnapshotIds, IReadOnlyList<string> DeletedFiles);

/// <summary>Another writer committed first; reload the table and apply the change again.</summary>
public sealed class CommitConflictException : Exception
{
    public CommitConflictException() { }

    public CommitConflictException(string message) : base(message) { }

    public CommitConflictException(string message, Exception inner) : base(message, inner) { }
}
