using ParquetSharp;
using PS = ParquetSharp;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>Reads data files back as rows: copy-on-write overwrites, compaction and table reads need them.</summary>
public static class ParquetFileReader
{
    /// <summary>Rows in schema order, timestamps as <see cref="DateTimeOffset"/>.</summary>
    public static List<object?[]> ReadRows(string path, TableSchema schema)
    {
        var rows = ReadCanonicalRows(path, schema);
        var types = schema.Fields.Select(f => f.Type).ToArray();
        foreach (var row in rows)
            for (var c = 0; c < row.Length; c++)
                row[c] = ColumnValues.ToPublic(types[c], row[c]);
        return rows;
    }

    /// <summary>Rows in schema order with canonical values (timestamps as microseconds).</summary>
    internal static List<object?[]> ReadCanonicalRows(string path, TableSchema schema)
    {
        using var file = ParquetFile.Open(path, schema);
        var rows = new List<object?[]>(checked((int)file.RowCount));
        for (var g = 0; g < file.RowGroupCount; g++)
        {
            var columns = new object?[schema.Fields.Count][];
            for (var c = 0; c < columns.Length; c++) columns[c] = file.ReadColumn(g, c);
            for (var r = 0; r < file.RowGroupRows(g); r++)
            {
                var row = new object?[columns.Length];
                for (var c = 0; c < row.Length; c++) row[c] = columns[c][r];
                rows.Add(row);
            }
        }
        return rows;
    }
}

/// <summary>
/// One data file opened through ParquetSharp, its columns matched to the table schema by field id as Iceberg
/// projects them (a column the file lacks reads as nulls). Columns are read one row group at a time as physical
/// values and definition levels, so rewriting a file holds a batch, not the file's rows.
/// </summary>
internal sealed class ParquetFile : IDisposable
{
    private const int BatchRows = 4096;

    private readonly PS.ParquetFileReader _reader;
    private readonly TableSchema _schema;
    private readonly int[] _columnOf;
    private readonly int[] _groupRows;

    private ParquetFile(PS.ParquetFileReader reader, TableSchema schema)
    {
        _reader = reader;
        _schema = schema;
        using var meta = reader.FileMetaData;
        var fileSchema = meta.Schema;
        var ids = new Dictionary<int, int>();
        for (var i = 0; i < fileSchema.NumColumns; i++)
        {
            var descriptor = fileSchema.Column(i);
            using var node = descriptor.SchemaNode;
            if (node.FieldId >= 0) ids.TryAdd(node.FieldId, i);
        }
        _columnOf = new int[schema.Fields.Count];
        for (var c = 0; c < _columnOf.Length; c++)
        {
            var field = schema.Fields[c];
            _columnOf[c] = ids.TryGetValue(field.Id, out var i) ? i : -1;
            if (_columnOf[c] < 0) continue;
            var descriptor = fileSchema.Column(_columnOf[c]);
            if (descriptor.PhysicalType != PhysicalTypes.Of(field.Type))
                throw new InvalidDataException($"Column '{field.Name}' (field id {field.Id}) has another physical type in the file.");
        }
        _groupRows = new int[meta.NumRowGroups];
        for (var g = 0; g < _groupRows.Length; g++)
        {
            using var group = reader.RowGroup(g);
            var groupMeta = group.MetaData;
            _groupRows[g] = checked((int)groupMeta.NumRows);
        }
        RowCount = meta.NumRows;
    }

    public static ParquetFile Open(string path, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        PS.ParquetFileReader reader;
        try
        {
            using var properties = ReaderProperties.WithMemoryPool(PhysicalTypes.Pool);
            reader = new PS.ParquetFileReader(path, properties);
        }
        catch (ParquetException e)
        {
            throw new InvalidDataException($"{path} is not a readable Parquet file: {e.Message}", e);
        }
        try
        {
            return new ParquetFile(reader, schema);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    public long RowCount { get; }

    public int RowGroupCount => _groupRows.Length;

    public int RowGroupRows(int group) => _groupRows[group];

    /// <summary>A row group's column, boxed in canonical form (timestamps as microseconds).</summary>
    public object?[] ReadColumn(int group, int column)
    {
        var result = new object?[_groupRows[group]];
        var source = _columnOf[column];
        if (source < 0) return result;
        var field = _schema.Fields[column];
        using var rowGroup = _reader.RowGroup(group);
        using var reader = rowGroup.Column(source);
        switch (field.Type)
        {
            case ColumnType.Boolean: Box((ColumnReader<bool>)reader, field, result, v => v); break;
            case ColumnType.Int: Box((ColumnReader<int>)reader, field, result, v => v); break;
            case ColumnType.Long or ColumnType.TimestampTz: Box((ColumnReader<long>)reader, field, result, v => v); break;
            case ColumnType.Double: Box((ColumnReader<double>)reader, field, result, v => v); break;
            case ColumnType.String: Box((ColumnReader<ByteArray>)reader, field, result, PhysicalTypes.Utf8); break;
            default: throw new ArgumentOutOfRangeException(nameof(column));
        }
        return result;
    }

    private static void Box<T>(ColumnReader<T> reader, SchemaField field, object?[] result, Func<T, object> box) where T : unmanaged
    {
        var levels = new short[BatchRows];
        var values = new T[BatchRows];
        var row = 0;
        while (row < result.Length)
        {
            var (rows, _) = ReadBatch(reader, field, Math.Min(BatchRows, result.Length - row), levels, values);
            if (rows == 0) throw new InvalidDataException($"Column '{field.Name}' ends before its row group does.");
            for (int i = 0, v = 0; i < rows; i++, row++)
                result[row] = field.Required || levels[i] == 1 ? box(values[v++]) : null;
        }
    }

    /// <summary>Reads up to <paramref name="rows"/> rows (Arrow stops at page ends): the rows read and the values among them.</summary>
    private static (int Rows, int Values) ReadBatch<T>(ColumnReader<T> reader, SchemaField field, int rows, short[] levels, T[] values)
        where T : unmanaged
    {
        var levelCount = reader.ReadBatch(rows, field.Required ? default : levels.AsSpan(0, rows), default, values.AsSpan(0, rows), out var valueCount);
        return ((int)(field.Required ? valueCount : levelCount), (int)valueCount);
    }

    /// <summary>
    /// Writes rows <paramref name="skip"/> .. <paramref name="skip"/>+<paramref name="take"/> of a row group, less
    /// those whose <paramref name="keep"/> entry is false, into the open row group of another file, column by column:
    /// physical values and levels pass from Arrow's reader to its writer, which encodes and compresses them anew.
    /// </summary>
    internal void CopyRows(int group, int skip, int take, bool[]? keep, RowGroupWriter target, ColumnBuffer[] columns)
    {
        using var rowGroup = _reader.RowGroup(group);
        for (var c = 0; c < columns.Length; c++)
        {
            var field = _schema.Fields[c];
            var writer = target.Column(c);
            if (_columnOf[c] < 0)
            {
                var kept = keep is null ? take : keep.AsSpan(skip, take).Count(true);
                if (field.Required) throw new InvalidDataException($"Required column '{field.Name}' is missing from the file.");
                var nulls = new short[kept];
                writer.Apply(new NullWriter(nulls));
                continue;
            }
            using var reader = rowGroup.Column(_columnOf[c]);
            reader.Skip(skip);
            switch (field.Type)
            {
                case ColumnType.Boolean: Copy((ColumnReader<bool>)reader, (ColumnWriter<bool>)writer, field, take, keep, skip, null); break;
                case ColumnType.Int: Copy((ColumnReader<int>)reader, (ColumnWriter<int>)writer, field, take, keep, skip, null); break;
                case ColumnType.Long or ColumnType.TimestampTz: Copy((ColumnReader<long>)reader, (ColumnWriter<long>)writer, field, take, keep, skip, null); break;
                case ColumnType.Double: Copy((ColumnReader<double>)reader, (ColumnWriter<double>)writer, field, take, keep, skip, columns[c]); break;
                case ColumnType.String: Copy((ColumnReader<ByteArray>)reader, (ColumnWriter<ByteArray>)writer, field, take, keep, skip, null); break;
                default: throw new ArgumentOutOfRangeException(nameof(columns));
            }
        }
    }

    private static void Copy<T>(ColumnReader<T> reader, ColumnWriter<T> writer, SchemaField field, int take, bool[]? keep, int skip, ColumnBuffer? nanCounter)
        where T : unmanaged
    {
        var levels = new short[BatchRows];
        var values = new T[BatchRows];
        for (var done = 0; done < take;)
        {
            var (rows, valueCount) = ReadBatch(reader, field, Math.Min(BatchRows, take - done), levels, values);
            if (rows == 0) throw new InvalidDataException($"Column '{field.Name}' ends before its row group does.");
            var (outRows, outValues) = (rows, valueCount);
            if (keep is not null)
            {
                // Compacts the batch in place: byte-array values still point into the reader's page, valid until
                // the next read, and the writer copies them before that.
                outRows = outValues = 0;
                for (int i = 0, v = 0; i < rows; i++)
                {
                    var defined = field.Required || levels[i] == 1;
                    if (keep[skip + done + i])
                    {
                        if (!field.Required) levels[outRows] = levels[i];
                        outRows++;
                        if (defined) values[outValues++] = values[v];
                    }
                    if (defined) v++;
                }
            }
            if (nanCounter is not null) nanCounter.CountNaNs(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(values.AsSpan(0, outValues)));
            if (outRows > 0) writer.WriteBatch(outRows, field.Required ? default : levels.AsSpan(0, outRows), default, values.AsSpan(0, outValues));
            done += rows;
        }
    }

    /// <summary>Writes nulls into a column of any physical type (a column added to the schema after the file).</summary>
    private sealed class NullWriter(short[] levels) : IColumnWriterVisitor<bool>
    {
        public bool OnColumnWriter<TValue>(ColumnWriter<TValue> columnWriter) where TValue : unmanaged
        {
            if (levels.Length > 0) columnWriter.WriteBatch(levels.Length, levels, default, ReadOnlySpan<TValue>.Empty);
            return true;
        }
    }

    public void Dispose() => _reader.Dispose();
}
