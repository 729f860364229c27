using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>Page codecs; the values are Parquet's CompressionCodec enum.</summary>
public enum ParquetCompression
{
    Uncompressed = 0,
    Snappy = 1,
    Gzip = 2,
}

public sealed record ParquetWriteOptions
{
    public ParquetCompression Compression { get; init; } = ParquetCompression.Gzip;

    /// <summary>Rows per row group; the last group of a file takes the remainder.</summary>
    public int RowGroupRows { get; init; } = 100_000;

    /// <summary>A page is closed once its encoded values reach this size (before compression). Small enough that a
    /// page's buffers stay off the large object heap (megabyte pages left megabytes there with every export file,
    /// freed only by full collections); gzip's window is 32 KiB, so larger pages would compress no better.</summary>
    public int PageSizeBytes { get; init; } = 64 << 10;

    /// <summary>A page is also closed at this many values (parquet-mr's page row limit), so that its definition levels
    /// stay small whatever the column: a page of booleans packs eight values per byte.</summary>
    public int PageValueLimit { get; init; } = 20_000;

    public CompressionLevel GzipLevel { get; init; } = CompressionLevel.Fastest;

    /// <summary>Extra footer key/value metadata (Iceberg writers put the table schema under "iceberg.schema").</summary>
    public IReadOnlyDictionary<string, string>? KeyValueMetadata { get; init; }
}

/// <summary>
/// Per-column statistics of a whole file, in the form Iceberg manifests want them: bounds use Iceberg's binary
/// single-value serialization, sizes are the compressed bytes of the column's chunks including page headers.
/// </summary>
public sealed record ColumnMetrics(int FieldId, long ValueCount, long NullCount, long? NanCount, byte[]? LowerBound, byte[]? UpperBound, long SizeBytes);

public sealed record ParquetFileMetrics(long RecordCount, long FileSizeBytes, IReadOnlyList<ColumnMetrics> Columns, IReadOnlyList<long> RowGroupOffsets);

/// <summary>
/// Writes flat Parquet files: PLAIN values, RLE/bit-packed definition levels, data page v1, optional GZIP or
/// Snappy per page, chunk statistics and field ids. Written for our own schemas; nested types are out of scope.
/// </summary>
public static class ParquetFileWriter
{
    internal const string CreatedBy = "attribution-lakehouse version 1.0.0";

    public static ParquetFileMetrics Write(string path, TableSchema schema, IReadOnlyList<object?[]> rows, ParquetWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var writer = ParquetStreamWriter.Create(path, schema, options);
        foreach (var row in rows) writer.AppendRow(row);
        return writer.Finish();
    }

    public static ParquetFileMetrics Write(Stream output, TableSchema schema, IReadOnlyList<object?[]> rows, ParquetWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var writer = new ParquetStreamWriter(output, schema, options, ownsStream: false);
        foreach (var row in rows) writer.AppendRow(row);
        return writer.Finish();
    }

    internal static int PhysicalType(ColumnType type) => type switch
    {
        ColumnType.Boolean => 0,
        ColumnType.Int => 1,
        ColumnType.Long or ColumnType.TimestampTz => 2,
        ColumnType.Double => 5,
        ColumnType.String => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}

/// <summary>
/// A Parquet file written row group by row group: values are appended per column (<see cref="Column"/>) or per row,
/// each row group goes to the stream once it holds <see cref="ParquetWriteOptions.RowGroupRows"/> rows, and
/// <see cref="Finish"/> writes the footer. Memory is one row group's compressed chunks, not the file's rows.
/// </summary>
internal sealed class ParquetStreamWriter : IDisposable
{
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    private readonly Stream _output;
    private readonly bool _ownsStream;
    private readonly ParquetWriteOptions _options;
    private readonly CountingSink _sink;
    private readonly ParquetColumnWriter[] _columns;
    private readonly List<(int Rows, ColumnChunkInfo[] Chunks)> _rowGroups = [];
    private bool _finished;

    public ParquetStreamWriter(Stream output, TableSchema schema, ParquetWriteOptions? options, bool ownsStream)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(schema);
        _options = options ?? new ParquetWriteOptions();
        if (_options.RowGroupRows <= 0) throw new ArgumentOutOfRangeException(nameof(options), "RowGroupRows must be positive.");
        if (_options.PageSizeBytes <= 0 || _options.PageValueLimit <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "PageSizeBytes and PageValueLimit must be positive.");
        _output = output;
        _ownsStream = ownsStream;
        Schema = schema;
        _sink = new CountingSink(output);
        _sink.Write(Magic);
        _columns = schema.Fields.Select(f => new ParquetColumnWriter(f, _options)).ToArray();
    }

    /// <summary>A new file; fails if the path exists, so a data file is never overwritten in place.</summary>
    public static ParquetStreamWriter Create(string path, TableSchema schema, ParquetWriteOptions? options) =>
        new(new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16), schema, options, ownsStream: true);

    public TableSchema Schema { get; }

    /// <summary>Rows completed so far, including those of the open row group.</summary>
    public long Rows { get; private set; }

    /// <summary>Rows of the open row group.</summary>
    public int PendingRows { get; private set; }

    /// <summary>Room left in the open row group.</summary>
    public int RowGroupRoom => _options.RowGroupRows - PendingRows;

    internal ParquetColumnWriter Column(int index) => _columns[index];

    /// <summary>One row in schema order; values are canonicalised (<see cref="ColumnValues.Canonical"/>).</summary>
    public void AppendRow(object?[] row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.Length != _columns.Length) throw new ArgumentException($"Rows need {_columns.Length} values, got {row.Length}.", nameof(row));
        for (var c = 0; c < _columns.Length; c++)
        {
            var value = ColumnValues.Canonical(_columns[c].Field.Type, row[c]);
            if (value is null && _columns[c].Field.Required)
                throw new ArgumentException($"Row {Rows} has a null in required column '{_columns[c].Field.Name}'.", nameof(row));
            _columns[c].Append(value);
        }
        CompleteRows(1);
    }

    /// <summary>One row whose values are already canonical and checked against the schema (a table writer does
    /// that once, for the partition key, before choosing the file).</summary>
    internal void AppendCanonicalRow(object?[] canonical)
    {
        for (var c = 0; c < _columns.Length; c++) _columns[c].Append(canonical[c]);
        CompleteRows(1);
    }

    /// <summary>
    /// Declares that <paramref name="count"/> more values were appended to every column directly; closes the row
    /// group when it is full.
    /// </summary>
    public void CompleteRows(int count)
    {
        var expected = PendingRows + count;
        foreach (var column in _columns)
            if (column.ChunkValues != expected)
                throw new InvalidOperationException($"Column '{column.Field.Name}' holds {column.ChunkValues} values of the row group, expected {expected}.");
        PendingRows = expected;
        Rows += count;
        if (PendingRows >= _options.RowGroupRows) EndRowGroup();
    }

    /// <summary>
    /// Copies rows <paramref name="skip"/> .. <paramref name="skip"/>+<paramref name="take"/> of an input row group,
    /// leaving out those whose <paramref name="keep"/> entry is false, column by column and without boxing; row groups
    /// are cut at <see cref="ParquetWriteOptions.RowGroupRows"/> whatever the input's grouping.
    /// </summary>
    public void AppendFrom(ParquetFile input, int group, int skip, int take, bool[]? keep = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        while (take > 0)
        {
            var span = Math.Min(take, RowGroupRoom);
            if (keep is not null)
            {
                // Enough input rows to fill the open row group with kept ones, or all that are left.
                span = 0;
                for (var kept = 0; span < take && kept < RowGroupRoom; span++)
                    if (keep[skip + span]) kept++;
            }
            var appended = 0;
            for (var c = 0; c < _columns.Length; c++) appended = input.CopyColumn(group, c, _columns[c], skip, span, keep);
            CompleteRows(appended);
            skip += span;
            take -= span;
        }
    }

    public ParquetFileMetrics Finish()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        if (PendingRows > 0) EndRowGroup();
        var footer = Footer(Schema, Rows, _rowGroups, _options);
        _sink.Write(footer);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, footer.Length);
        _sink.Write(len);
        _sink.Write(Magic);
        _output.Flush();
        if (_output is FileStream file) file.Flush(flushToDisk: true);
        _finished = true;
        return new ParquetFileMetrics(
            Rows,
            _sink.Position,
            _columns.Select(c => c.FileMetrics()).ToArray(),
            _rowGroups.Select(g => g.Chunks[0].DataPageOffset).ToArray());
    }

    public void Dispose()
    {
        _finished = true;
        if (_ownsStream) _output.Dispose();
    }

    private void EndRowGroup()
    {
        var chunks = new ColumnChunkInfo[_columns.Length];
        for (var c = 0; c < _columns.Length; c++) chunks[c] = _columns[c].WriteChunk(_sink);
        _rowGroups.Add((PendingRows, chunks));
        PendingRows = 0;
    }

    private static byte[] Footer(TableSchema schema, long numRows, List<(int Rows, ColumnChunkInfo[] Chunks)> rowGroups, ParquetWriteOptions options)
    {
        var w = new ThriftCompactWriter(new ArrayBufferWriter<byte>(4096));
        w.BeginStruct();
        w.I32Field(1, 1);
        w.ListFieldHeader(2, CompactType.Struct, schema.Fields.Count + 1);
        w.BeginStruct();
        w.StringField(4, "table");
        w.I32Field(5, schema.Fields.Count);
        w.EndStruct();
        foreach (var f in schema.Fields) WriteSchemaElement(w, f);
        w.I64Field(3, numRows);

        w.ListFieldHeader(4, CompactType.Struct, rowGroups.Count);
        for (var g = 0; g < rowGroups.Count; g++)
        {
            var rg = rowGroups[g];
            w.BeginStruct();
            w.ListFieldHeader(1, CompactType.Struct, rg.Chunks.Length);
            foreach (var chunk in rg.Chunks) WriteColumnChunk(w, chunk, options.Compression);
            w.I64Field(2, rg.Chunks.Sum(c => c.UncompressedSize));
            w.I64Field(3, rg.Rows);
            w.I64Field(5, rg.Chunks[0].DataPageOffset);
            w.I64Field(6, rg.Chunks.Sum(c => c.CompressedSize));
            w.I16Field(7, checked((short)g));
            w.EndStruct();
        }

        var kv = options.KeyValueMetadata;
        if (kv is { Count: > 0 })
        {
            w.ListFieldHeader(5, CompactType.Struct, kv.Count);
            foreach (var (key, value) in kv)
            {
                w.BeginStruct();
                w.StringField(1, key);
                w.StringField(2, value);
                w.EndStruct();
            }
        }
        w.StringField(6, ParquetFileWriter.CreatedBy);
        // Without column_orders the meaning of min_value/max_value is undefined, so readers would ignore them.
        w.ListFieldHeader(7, CompactType.Struct, schema.Fields.Count);
        for (var i = 0; i < schema.Fields.Count; i++)
        {
            w.BeginStruct();
            w.BeginStructField(1); // TYPE_ORDER
            w.EndStruct();
            w.EndStruct();
        }
        w.EndStruct();
        return w.ToArray();
    }

    private static void WriteSchemaElement(ThriftCompactWriter w, SchemaField f)
    {
        w.BeginStruct();
        w.I32Field(1, ParquetFileWriter.PhysicalType(f.Type));
        w.I32Field(3, f.Required ? 0 : 1);
        w.StringField(4, f.Name);
        switch (f.Type)
        {
            case ColumnType.String:
                w.I32Field(6, 0); // ConvertedType UTF8, kept for readers that predate LogicalType
                break;
            case ColumnType.TimestampTz:
                w.I32Field(6, 10); // ConvertedType TIMESTAMP_MICROS
                break;
        }
        w.I32Field(9, f.Id);
        switch (f.Type)
        {
            case ColumnType.String:
                w.BeginStructField(10);
                w.BeginStructField(1); // STRING
                w.EndStruct();
                w.EndStruct();
                break;
            case ColumnType.TimestampTz:
                w.BeginStructField(10);
                w.BeginStructField(8); // TIMESTAMP
                w.BoolField(1, true); // isAdjustedToUTC
                w.BeginStructField(2); // unit
                w.BeginStructField(2); // MICROS
                w.EndStruct();
                w.EndStruct();
                w.EndStruct();
                w.EndStruct();
                break;
        }
        w.EndStruct();
    }

    private static void WriteColumnChunk(ThriftCompactWriter w, ColumnChunkInfo chunk, ParquetCompression codec)
    {
        w.BeginStruct();
        // file_offset is deprecated; the format asks writers to put 0 when no metadata lives outside the footer.
        w.I64Field(2, 0);
        w.BeginStructField(3);
        w.I32Field(1, ParquetFileWriter.PhysicalType(chunk.Field.Type));
        w.ListFieldHeader(2, CompactType.I32, 2);
        w.I32(0); // PLAIN
        w.I32(3); // RLE (definition levels)
        w.ListFieldHeader(3, CompactType.Binary, 1);
        w.String(chunk.Field.Name);
        w.I32Field(4, (int)codec);
        w.I64Field(5, chunk.NumValues);
        w.I64Field(6, chunk.UncompressedSize);
        w.I64Field(7, chunk.CompressedSize);
        w.I64Field(9, chunk.DataPageOffset);
        WriteStatistics(w, chunk.Stats);
        w.EndStruct();
        w.EndStruct();
    }

    private static void WriteStatistics(ThriftCompactWriter w, ColumnStatistics stats)
    {
        w.BeginStructField(12);
        w.I64Field(3, stats.Nulls);
        if (stats.HasBounds)
        {
            w.BinaryField(5, stats.ParquetMax()!);
            w.BinaryField(6, stats.ParquetMin()!);
        }
        if (stats.Type == ColumnType.Double) w.I64Field(9, stats.NaNs);
        w.EndStruct();
    }
}

/// <summary>Tracks the byte offset of a forward-only stream, which page and chunk offsets are recorded from.</summary>
internal sealed class CountingSink(Stream stream)
{
    public long Position { get; private set; }

    public void Write(ReadOnlySpan<byte> data)
    {
        stream.Write(data);
        Position += data.Length;
    }
}
