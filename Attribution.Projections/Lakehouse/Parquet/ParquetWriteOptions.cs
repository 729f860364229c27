namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>Page codecs the lakehouse offers (Iceberg's <c>write.parquet.compression-codec</c> names, lower-cased).</summary>
public enum ParquetCompression
{
    Uncompressed,
    Snappy,
    Gzip,
    Zstd,
}

public sealed record ParquetWriteOptions
{
    public ParquetCompression Compression { get; init; } = ParquetCompression.Zstd;

    /// <summary>The codec's level for ZSTD and GZIP (ignored by the others); null takes the library's default, which
    /// for ZSTD and GZIP is far slower for little gain (docs/BENCHMARKS.md, "Lakehouse on ParquetSharp").</summary>
    public int? CompressionLevel { get; init; } = 3;

    /// <summary>Rows per row group; the last group of a file takes the remainder.</summary>
    public int RowGroupRows { get; init; } = 100_000;

    /// <summary>A data page is closed once its encoded values reach about this size (before compression).</summary>
    public long PageSizeBytes { get; init; } = 1L << 20;

    /// <summary>A column chunk falls back from dictionary to plain encoding once its dictionary reaches this size. Small,
    /// so that enum-like columns (event type, country, platform, campaign) stay dictionary-encoded while ids and
    /// payloads turn plain early: ZSTD compresses plain ids better than dictionary indices, and Arrow's 1 MiB default
    /// made Bronze files 39 % larger and its export slower than plain pages (docs/BENCHMARKS.md).</summary>
    public long DictionaryPageSizeBytes { get; init; } = 16L << 10;

    /// <summary>Extra footer key/value metadata (Iceberg writers put the table schema under "iceberg.schema").</summary>
    public IReadOnlyDictionary<string, string>? KeyValueMetadata { get; init; }
}

/// <summary>
/// Per-column statistics of a whole file, in the form Iceberg manifests want them: bounds use Iceberg's binary
/// single-value serialization, sizes are the compressed bytes of the column's chunks.
/// </summary>
public sealed record ColumnMetrics(int FieldId, long ValueCount, long NullCount, long? NanCount, byte[]? LowerBound, byte[]? UpperBound, long SizeBytes);

public sealed record ParquetFileMetrics(long RecordCount, long FileSizeBytes, IReadOnlyList<ColumnMetrics> Columns, IReadOnlyList<long> RowGroupOffsets);
