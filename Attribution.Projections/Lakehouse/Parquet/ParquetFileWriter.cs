using ParquetSharp;
using ParquetSharp.Schema;
using PS = ParquetSharp;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>Writes whole Parquet files of our flat schemas in one call.</summary>
public static class ParquetFileWriter
{
    public static ParquetFileMetrics Write(string path, TableSchema schema, IReadOnlyList<object?[]> rows, ParquetWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var writer = ParquetStreamWriter.Create(path, schema, options);
        foreach (var row in rows) writer.AppendRow(row);
        return writer.Finish();
    }
}

/// <summary>
/// A Parquet file written through ParquetSharp (Apache Arrow's C++ Parquet): rows are buffered per column in small
/// unboxed batches and handed to a buffered row group, which Arrow encodes (dictionary or plain), compresses and
/// keeps as pages until the group holds <see cref="ParquetWriteOptions.RowGroupRows"/> rows. Memory is one row
/// group's compressed pages plus a batch, not the file's rows. Every column carries its Iceberg field id.
/// </summary>
internal sealed class ParquetStreamWriter : IDisposable
{
    private const int BatchRows = 4096;

    private readonly string _path;
    private readonly ParquetWriteOptions _options;
    private readonly PS.ParquetFileWriter _file;
    private readonly ColumnBuffer[] _columns;
    private RowGroupWriter? _group;
    private int _groupRows;
    private int _pending;
    private bool _finished;

    private ParquetStreamWriter(string path, TableSchema schema, ParquetWriteOptions options)
    {
        if (options.RowGroupRows <= 0) throw new ArgumentOutOfRangeException(nameof(options), "RowGroupRows must be positive.");
        if (options.PageSizeBytes <= 0 || options.DictionaryPageSizeBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), "Page sizes must be positive.");
        _path = path;
        _options = options;
        Schema = schema;
        _columns = schema.Fields.Select(f => ColumnBuffer.For(f, BatchRows)).ToArray();
        using var root = SchemaNode(schema);
        using var properties = Properties(options);
        _file = new PS.ParquetFileWriter(path, root, properties, options.KeyValueMetadata);
    }

    /// <summary>A new file; fails if the path exists, so a data file is never overwritten in place.</summary>
    public static ParquetStreamWriter Create(string path, TableSchema schema, ParquetWriteOptions? options)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(schema);
        // Claims the name atomically; the native writer then opens the (empty) file we own.
        new FileStream(path, FileMode.CreateNew, FileAccess.Write).Dispose();
        try
        {
            return new ParquetStreamWriter(path, schema, options ?? new ParquetWriteOptions());
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public TableSchema Schema { get; }

    /// <summary>Rows appended so far, including those of the open row group.</summary>
    public long Rows { get; private set; }

    /// <summary>Room left in the open row group.</summary>
    public int RowGroupRoom => _options.RowGroupRows - _groupRows - _pending;

    private static GroupNode SchemaNode(TableSchema schema)
    {
        var fields = schema.Fields.Select(f => (Node)new PrimitiveNode(
            f.Name,
            f.Required ? Repetition.Required : Repetition.Optional,
            f.Type switch
            {
                ColumnType.String => LogicalType.String(),
                // Iceberg's timestamptz: INT64 TIMESTAMP(isAdjustedToUTC=true, MICROS).
                ColumnType.TimestampTz => LogicalType.Timestamp(true, TimeUnit.Micros),
                _ => LogicalType.None(),
            },
            PhysicalTypes.Of(f.Type),
            -1,
            f.Id)).ToArray();
        try
        {
            return new GroupNode("table", Repetition.Required, fields);
        }
        finally
        {
            foreach (var f in fields) f.Dispose();
        }
    }

    private static WriterProperties Properties(ParquetWriteOptions options)
    {
        using var builder = new WriterPropertiesBuilder();
        builder
            .Compression(options.Compression switch
            {
                ParquetCompression.Uncompressed => Compression.Uncompressed,
                ParquetCompression.Snappy => Compression.Snappy,
                ParquetCompression.Gzip => Compression.Gzip,
                ParquetCompression.Zstd => Compression.Zstd,
                _ => throw new ArgumentOutOfRangeException(nameof(options), $"Unsupported compression {options.Compression}."),
            })
            .EnableDictionary()
            .EnableStatistics()
            .DataPagesize(options.PageSizeBytes)
            .DictionaryPagesizeLimit(options.DictionaryPageSizeBytes)
            .MaxRowGroupLength(options.RowGroupRows)
            .CreatedBy("attribution-lakehouse (parquet-cpp-arrow via ParquetSharp)")
            .MemoryPool(PhysicalTypes.Pool);
        // Snappy has no levels; Arrow refuses one set for it.
        if (options.CompressionLevel is { } level && options.Compression is ParquetCompression.Zstd or ParquetCompression.Gzip)
            builder.CompressionLevel(level);
        return builder.Build();
    }

    /// <summary>One row in schema order; values are canonicalised (<see cref="ColumnValues.Canonical"/>).</summary>
    public void AppendRow(object?[] row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.Length != _columns.Length) throw new ArgumentException($"Rows need {_columns.Length} values, got {row.Length}.", nameof(row));
        var canonical = new object?[row.Length];
        for (var c = 0; c < _columns.Length; c++)
        {
            canonical[c] = ColumnValues.Canonical(_columns[c].Field.Type, row[c]);
            if (canonical[c] is null && _columns[c].Field.Required)
                throw new ArgumentException($"Row {Rows} has a null in required column '{_columns[c].Field.Name}'.", nameof(row));
        }
        AppendCanonicalRow(canonical);
    }

    /// <summary>One row whose values are already canonical and checked against the schema (a table writer does
    /// that once, for the partition key, before choosing the file).</summary>
    internal void AppendCanonicalRow(object?[] canonical)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        for (var c = 0; c < _columns.Length; c++) _columns[c].Append(canonical[c]);
        _pending++;
        Rows++;
        if (_pending == BatchRows || RowGroupRoom == 0) FlushBatch();
        if (RowGroupRoom == 0) EndRowGroup();
    }

    /// <summary>
    /// Copies rows <paramref name="skip"/> .. <paramref name="skip"/>+<paramref name="take"/> of an input row group,
    /// leaving out those whose <paramref name="keep"/> entry is false, as physical values and levels (no row objects);
    /// row groups are cut at <see cref="ParquetWriteOptions.RowGroupRows"/> whatever the input's grouping.
    /// </summary>
    public void AppendFrom(ParquetFile input, int group, int skip, int take, bool[]? keep = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ObjectDisposedException.ThrowIf(_finished, this);
        FlushBatch();
        while (take > 0)
        {
            var span = Math.Min(take, RowGroupRoom);
            var kept = span;
            if (keep is not null)
            {
                // Enough input rows to fill the open row group with kept ones, or all that are left.
                span = kept = 0;
                for (; span < take && kept < RowGroupRoom; span++)
                    if (keep[skip + span]) kept++;
            }
            if (kept > 0)
            {
                _group ??= _file.AppendBufferedRowGroup();
                input.CopyRows(group, skip, span, keep, _group, _columns);
                _groupRows += kept;
                Rows += kept;
                if (RowGroupRoom == 0) EndRowGroup();
            }
            skip += span;
            take -= span;
        }
    }

    private void FlushBatch()
    {
        if (_pending == 0) return;
        _group ??= _file.AppendBufferedRowGroup();
        for (var c = 0; c < _columns.Length; c++) _columns[c].Flush(_group.Column(c));
        _groupRows += _pending;
        _pending = 0;
    }

    private void EndRowGroup()
    {
        FlushBatch();
        if (_group is null) return;
        _group.Close();
        _group.Dispose();
        _group = null;
        _groupRows = 0;
    }

    public ParquetFileMetrics Finish()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        EndRowGroup();
        _file.Close();
        _finished = true;
        _file.Dispose();
        return Metrics();
    }

    /// <summary>Iceberg's file metrics from the footer Arrow wrote, plus the NaN counts Parquet statistics leave out.</summary>
    private ParquetFileMetrics Metrics()
    {
        using var properties = ReaderProperties.WithMemoryPool(PhysicalTypes.Pool);
        using var reader = new PS.ParquetFileReader(_path, properties);
        using var meta = reader.FileMetaData;
        var columns = new ColumnMetrics[_columns.Length];
        // Split offsets: where each row group starts. Arrow writes file_offset 0 (as the format now asks) and the
        // chunks of a file back to back after the magic, so each group starts where the previous one's chunks end.
        var offsets = new List<long>(meta.NumRowGroups);
        long position = 4;
        var values = new long[_columns.Length];
        var nulls = new long[_columns.Length];
        var sizes = new long[_columns.Length];
        var lower = new object?[_columns.Length];
        var upper = new object?[_columns.Length];
        var boundsKnown = Enumerable.Repeat(true, _columns.Length).ToArray();
        for (var g = 0; g < meta.NumRowGroups; g++)
        {
            using var rowGroup = reader.RowGroup(g);
            var groupMeta = rowGroup.MetaData;
            for (var c = 0; c < _columns.Length; c++)
            {
                using var chunk = groupMeta.GetColumnChunkMetaData(c);
                if (c == 0) offsets.Add(position);
                position += chunk.TotalCompressedSize;
                values[c] += chunk.NumValues;
                sizes[c] += chunk.TotalCompressedSize;
                using var stats = chunk.Statistics;
                if (stats is null)
                {
                    boundsKnown[c] = false;
                    continue;
                }
                nulls[c] += stats.NullCount;
                if (!stats.HasMinMax)
                {
                    // A chunk with values but no bounds (a string past the statistics size limit) leaves the file's
                    // bounds unknown: Iceberg bounds must enclose every value.
                    if (stats.NumValues > 0 && _columns[c].Field.Type != ColumnType.Double) boundsKnown[c] = false;
                    continue;
                }
                var type = _columns[c].Field.Type;
                var (min, max) = Bounds(type, stats);
                if (lower[c] is null || ColumnValues.Compare(type, min, lower[c]!) < 0) lower[c] = min;
                if (upper[c] is null || ColumnValues.Compare(type, max, upper[c]!) > 0) upper[c] = max;
            }
        }
        for (var c = 0; c < _columns.Length; c++)
        {
            var f = _columns[c].Field;
            var known = boundsKnown[c] && lower[c] is not null;
            columns[c] = new ColumnMetrics(
                f.Id, values[c], nulls[c], f.Type == ColumnType.Double ? _columns[c].NaNs : null,
                known ? ColumnValues.IcebergBinary(f.Type, lower[c]!) : null,
                known ? ColumnValues.IcebergBinary(f.Type, upper[c]!) : null,
                sizes[c]);
        }
        return new ParquetFileMetrics(Rows, new FileInfo(_path).Length, columns, offsets);
    }

    private static (object Min, object Max) Bounds(ColumnType type, Statistics stats) => type switch
    {
        ColumnType.Boolean => (((Statistics<bool>)stats).Min, ((Statistics<bool>)stats).Max),
        ColumnType.Int => (((Statistics<int>)stats).Min, ((Statistics<int>)stats).Max),
        ColumnType.Long or ColumnType.TimestampTz => (((Statistics<long>)stats).Min, ((Statistics<long>)stats).Max),
        ColumnType.Double => (((Statistics<double>)stats).Min, ((Statistics<double>)stats).Max),
        ColumnType.String => (PhysicalTypes.Utf8(((Statistics<ByteArray>)stats).Min), PhysicalTypes.Utf8(((Statistics<ByteArray>)stats).Max)),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public void Dispose()
    {
        if (_finished) return;
        _finished = true;
        _group?.Dispose();
        _file.Dispose();
    }
}
