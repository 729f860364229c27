using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

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

    /// <summary>A page is closed once its encoded values reach this size (before compression).</summary>
    public int PageSizeBytes { get; init; } = 1 << 20;

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
    private static readonly byte[] Magic = "PAR1"u8.ToArray();

    internal const string CreatedBy = "attribution-lakehouse version 1.0.0";

    public static ParquetFileMetrics Write(string path, TableSchema schema, IReadOnlyList<object?[]> rows, ParquetWriteOptions? options = null)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        var metrics = Write(stream, schema, rows, options);
        stream.Flush(flushToDisk: true);
        return metrics;
    }

    public static ParquetFileMetrics Write(Stream output, TableSchema schema, IReadOnlyList<object?[]> rows, ParquetWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new ParquetWriteOptions();
        if (options.RowGroupRows <= 0) throw new ArgumentOutOfRangeException(nameof(options), "RowGroupRows must be positive.");

        var sink = new CountingSink(output);
        sink.Write(Magic);
        var columns = schema.Fields.Select(f => new FileColumnStats(f)).ToArray();
        var rowGroups = new List<RowGroupInfo>();
        var scratch = new PageScratch(options);
        for (var start = 0; start < rows.Count; start += options.RowGroupRows)
        {
            var count = Math.Min(options.RowGroupRows, rows.Count - start);
            var chunks = new ChunkInfo[columns.Length];
            for (var c = 0; c < columns.Length; c++)
                chunks[c] = WriteChunk(sink, rows, start, count, c, columns[c], scratch);
            rowGroups.Add(new RowGroupInfo(count, chunks));
        }

        var footer = Footer(schema, rows.Count, rowGroups, options);
        sink.Write(footer);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, footer.Length);
        sink.Write(len);
        sink.Write(Magic);
        output.Flush();

        return new ParquetFileMetrics(
            rows.Count,
            sink.Position,
            columns.Select(c => c.ToMetrics()).ToArray(),
            rowGroups.Select(g => g.Chunks[0].DataPageOffset).ToArray());
    }

    private static ChunkInfo WriteChunk(CountingSink sink, IReadOnlyList<object?[]> rows, int start, int count, int column, FileColumnStats fileStats, PageScratch scratch)
    {
        var field = fileStats.Field;
        var chunkStats = new ValueStats(field.Type);
        var chunkStart = sink.Position;
        long uncompressedTotal = 0, compressedTotal = 0;
        scratch.Reset();
        for (var r = start; r < start + count; r++)
        {
            var value = ColumnValues.Canonical(field.Type, rows[r][column]);
            if (value is null)
            {
                if (field.Required) throw new ArgumentException($"Row {r} has a null in required column '{field.Name}'.", nameof(rows));
                scratch.DefinitionLevels.Add(0);
                chunkStats.Nulls++;
            }
            else
            {
                scratch.DefinitionLevels.Add(1);
                scratch.AppendPlain(field.Type, value);
                chunkStats.Add(value);
            }
            if (scratch.ValueBytes >= scratch.PageSizeBytes)
                FlushPage(sink, field, scratch, ref uncompressedTotal, ref compressedTotal);
        }
        if (scratch.DefinitionLevels.Count > 0)
            FlushPage(sink, field, scratch, ref uncompressedTotal, ref compressedTotal);

        fileStats.Merge(chunkStats, count, compressedTotal);
        return new ChunkInfo(field, chunkStart, count, uncompressedTotal, compressedTotal, chunkStats);
    }

    private static void FlushPage(CountingSink sink, SchemaField field, PageScratch scratch, ref long uncompressedTotal, ref long compressedTotal)
    {
        var body = scratch.Body;
        body.ResetWrittenCount();
        if (!field.Required)
        {
            // Data page v1 prefixes the definition levels with their byte length.
            var levels = scratch.Levels;
            levels.ResetWrittenCount();
            RleHybrid.Encode(CollectionsMarshal.AsSpan(scratch.DefinitionLevels), 1, levels);
            BinaryPrimitives.WriteInt32LittleEndian(body.GetSpan(4), levels.WrittenCount);
            body.Advance(4);
            levels.WrittenSpan.CopyTo(body.GetSpan(levels.WrittenCount));
            body.Advance(levels.WrittenCount);
        }
        scratch.CopyValuesTo(body);
        var uncompressed = body.WrittenSpan;
        var compressed = scratch.Compress(uncompressed);

        var header = new ThriftCompactWriter();
        header.BeginStruct();
        header.I32Field(1, 0); // DATA_PAGE
        header.I32Field(2, uncompressed.Length);
        header.I32Field(3, compressed.Length);
        header.BeginStructField(5);
        header.I32Field(1, scratch.DefinitionLevels.Count);
        header.I32Field(2, 0); // PLAIN
        header.I32Field(3, 3); // RLE
        header.I32Field(4, 3); // RLE
        header.EndStruct();
        header.EndStruct();

        sink.Write(header.WrittenSpan);
        sink.Write(compressed);
        uncompressedTotal += header.WrittenSpan.Length + uncompressed.Length;
        compressedTotal += header.WrittenSpan.Length + compressed.Length;
        scratch.Reset();
    }

    private static byte[] Footer(TableSchema schema, long numRows, List<RowGroupInfo> rowGroups, ParquetWriteOptions options)
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
        w.StringField(6, CreatedBy);
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
        w.I32Field(1, PhysicalType(f.Type));
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

    private static void WriteColumnChunk(ThriftCompactWriter w, ChunkInfo chunk, ParquetCompression codec)
    {
        w.BeginStruct();
        // file_offset is deprecated; the format asks writers to put 0 when no metadata lives outside the footer.
        w.I64Field(2, 0);
        w.BeginStructField(3);
        w.I32Field(1, PhysicalType(chunk.Field.Type));
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

    private static void WriteStatistics(ThriftCompactWriter w, ValueStats stats)
    {
        w.BeginStructField(12);
        w.I64Field(3, stats.Nulls);
        if (stats.Min is not null && stats.Max is not null)
        {
            var (min, max) = (stats.Min, stats.Max);
            if (stats.Type == ColumnType.Double)
            {
                // Parquet's TYPE_ORDER rule for floats: a zero minimum is written as -0.0, a zero maximum as +0.0.
                if ((double)min == 0) min = -0.0;
                if ((double)max == 0) max = 0.0;
            }
            w.BinaryField(5, ParquetPlainBytes(stats.Type, max));
            w.BinaryField(6, ParquetPlainBytes(stats.Type, min));
        }
        if (stats.Type == ColumnType.Double) w.I64Field(9, stats.NaNs);
        w.EndStruct();
    }

    /// <summary>PLAIN encoding of one value as statistics want it: byte arrays without their length prefix.</summary>
    private static byte[] ParquetPlainBytes(ColumnType type, object value) => type switch
    {
        ColumnType.Boolean => [(bool)value ? (byte)1 : (byte)0],
        _ => ColumnValues.IcebergBinary(type, value), // little-endian fixed width and raw UTF-8 coincide with PLAIN here
    };

    internal static int PhysicalType(ColumnType type) => type switch
    {
        ColumnType.Boolean => 0,
        ColumnType.Int => 1,
        ColumnType.Long or ColumnType.TimestampTz => 2,
        ColumnType.Double => 5,
        ColumnType.String => 6,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private sealed record RowGroupInfo(int Rows, ChunkInfo[] Chunks);

    private sealed record ChunkInfo(SchemaField Field, long DataPageOffset, long NumValues, long UncompressedSize, long CompressedSize, ValueStats Stats);

    /// <summary>Min, max, null and NaN counts of one column chunk, in Iceberg's order (NaN excluded from bounds).</summary>
    private sealed class ValueStats(ColumnType type)
    {
        public ColumnType Type { get; } = type;
        public object? Min { get; private set; }
        public object? Max { get; private set; }
        public long Nulls { get; set; }
        public long NaNs { get; private set; }

        public void Add(object value)
        {
            if (value is double d && double.IsNaN(d))
            {
                NaNs++;
                return;
            }
            if (Min is null || ColumnValues.Compare(Type, value, Min) < 0) Min = value;
            if (Max is null || ColumnValues.Compare(Type, value, Max) > 0) Max = value;
        }

        public void Merge(ValueStats other)
        {
            Nulls += other.Nulls;
            NaNs += other.NaNs;
            if (other.Min is not null && (Min is null || ColumnValues.Compare(Type, other.Min, Min) < 0)) Min = other.Min;
            if (other.Max is not null && (Max is null || ColumnValues.Compare(Type, other.Max, Max) > 0)) Max = other.Max;
        }
    }

    private sealed class FileColumnStats(SchemaField field)
    {
        private readonly ValueStats _stats = new(field.Type);
        private long _values;
        private long _size;

        public SchemaField Field { get; } = field;

        public void Merge(ValueStats chunk, long values, long size)
        {
            _stats.Merge(chunk);
            _values += values;
            _size += size;
        }

        public ColumnMetrics ToMetrics() => new(
            Field.Id,
            _values,
            _stats.Nulls,
            Field.Type == ColumnType.Double ? _stats.NaNs : null,
            _stats.Min is null ? null : ColumnValues.IcebergBinary(Field.Type, _stats.Min),
            _stats.Max is null ? null : ColumnValues.IcebergBinary(Field.Type, _stats.Max),
            _size);
    }

    /// <summary>Buffers reused across pages and chunks of one file.</summary>
    private sealed class PageScratch(ParquetWriteOptions options)
    {
        private readonly ArrayBufferWriter<byte> _values = new(1 << 16);
        private readonly MemoryStream _compressed = new();
        private byte _boolByte;
        private int _boolBits;

        public List<int> DefinitionLevels { get; } = new(1 << 12);
        public ArrayBufferWriter<byte> Body { get; } = new(1 << 16);
        public ArrayBufferWriter<byte> Levels { get; } = new(1 << 10);
        public int PageSizeBytes => options.PageSizeBytes;
        public int ValueBytes => _values.WrittenCount;

        public void Reset()
        {
            DefinitionLevels.Clear();
            _values.ResetWrittenCount();
            _boolByte = 0;
            _boolBits = 0;
        }

        public void AppendPlain(ColumnType type, object value)
        {
            switch (type)
            {
                case ColumnType.Boolean:
                    // PLAIN booleans are bit-packed, least significant bit first.
                    if ((bool)value) _boolByte |= (byte)(1 << _boolBits);
                    if (++_boolBits == 8) FlushBoolByte();
                    break;
                case ColumnType.Int:
                    BinaryPrimitives.WriteInt32LittleEndian(_values.GetSpan(4), (int)value);
                    _values.Advance(4);
                    break;
                case ColumnType.Long:
                case ColumnType.TimestampTz:
                    BinaryPrimitives.WriteInt64LittleEndian(_values.GetSpan(8), (long)value);
                    _values.Advance(8);
                    break;
                case ColumnType.Double:
                    BinaryPrimitives.WriteDoubleLittleEndian(_values.GetSpan(8), (double)value);
                    _values.Advance(8);
                    break;
                case ColumnType.String:
                {
                    var s = (string)value;
                    var max = Encoding.UTF8.GetMaxByteCount(s.Length);
                    var span = _values.GetSpan(4 + max);
                    var n = Encoding.UTF8.GetBytes(s, span[4..]);
                    BinaryPrimitives.WriteInt32LittleEndian(span, n);
                    _values.Advance(4 + n);
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(type));
            }
        }

        private void FlushBoolByte()
        {
            _values.GetSpan(1)[0] = _boolByte;
            _values.Advance(1);
            _boolByte = 0;
            _boolBits = 0;
        }

        public void CopyValuesTo(ArrayBufferWriter<byte> body)
        {
            if (_boolBits > 0) FlushBoolByte();
            var span = _values.WrittenSpan;
            span.CopyTo(body.GetSpan(span.Length));
            body.Advance(span.Length);
        }

        public ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> data)
        {
            switch (options.Compression)
            {
                case ParquetCompression.Uncompressed:
                    return data;
                case ParquetCompression.Gzip:
                {
                    _compressed.SetLength(0);
                    using (var gz = new GZipStream(_compressed, options.GzipLevel, leaveOpen: true))
                        gz.Write(data);
                    return _compressed.GetBuffer().AsSpan(0, (int)_compressed.Length);
                }
                case ParquetCompression.Snappy:
                    return Snappy.Compress(data);
                default:
                    throw new ArgumentOutOfRangeException(nameof(options), $"Unsupported compression {options.Compression}.");
            }
        }
    }

    /// <summary>Tracks the byte offset of a forward-only stream, which page and chunk offsets are recorded from.</summary>
    private sealed class CountingSink(Stream stream)
    {
        public long Position { get; private set; }

        public void Write(ReadOnlySpan<byte> data)
        {
            stream.Write(data);
            Position += data.Length;
        }
    }
}
