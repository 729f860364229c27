using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// Reads back the flat Parquet files <see cref="ParquetFileWriter"/> writes (PLAIN, data page v1, no dictionaries),
/// which copy-on-write overwrites and compaction need. Columns are matched by field id, as Iceberg projects them.
/// </summary>
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
/// Random access to one data file: the footer is read once, then one column chunk of one row group at a time, so
/// rewriting a file (compaction, copy-on-write) holds a chunk in memory rather than the file's rows. Values are
/// handed to a <see cref="ParquetColumnWriter"/> unboxed, or boxed in canonical form for the few callers that need
/// objects.
/// </summary>
internal sealed class ParquetFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly TableSchema _schema;
    private readonly int[] _leafOfColumn;
    private readonly (int Rows, ThriftStruct[] Chunks)[] _groups;

    private ParquetFile(SafeFileHandle handle, TableSchema schema, ThriftStruct footer)
    {
        _handle = handle;
        _schema = schema;
        var leaves = footer.List(2).Skip(1).Cast<ThriftStruct>().ToList();
        _leafOfColumn = new int[schema.Fields.Count];
        for (var c = 0; c < _leafOfColumn.Length; c++)
        {
            var field = schema.Fields[c];
            // A column missing from the file (added to the schema later) reads as nulls.
            _leafOfColumn[c] = leaves.FindIndex(l => l.Has(9) && l.Int(9) == field.Id);
            if (_leafOfColumn[c] >= 0 && leaves[_leafOfColumn[c]].Int(1) != ParquetFileWriter.PhysicalType(field.Type))
                throw new InvalidDataException($"Column '{field.Name}' (field id {field.Id}) has another physical type in the file.");
        }
        _groups = footer.List(4).Cast<ThriftStruct>()
            .Select(g => (checked((int)g.Long(3)), g.List(1).Cast<ThriftStruct>().Select(chunk => chunk.Struct(3)).ToArray()))
            .ToArray();
        RowCount = footer.Long(3);
    }

    public static ParquetFile Open(string path, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete);
        try
        {
            var length = RandomAccess.GetLength(handle);
            Span<byte> tail = stackalloc byte[8];
            if (length < 12 || RandomAccess.Read(handle, tail, length - 8) != 8 || !tail[4..].SequenceEqual("PAR1"u8))
                throw new InvalidDataException($"{path} is not a Parquet file.");
            var footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
            if (footerLength <= 0 || footerLength > length - 12) throw new InvalidDataException($"{path} has a corrupt footer length.");
            var footer = new byte[footerLength];
            RandomAccess.Read(handle, footer, length - 8 - footerLength);
            return new ParquetFile(handle, schema, new ThriftCompactReader(footer).ReadStruct());
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public long RowCount { get; }

    public int RowGroupCount => _groups.Length;

    public int RowGroupRows(int group) => _groups[group].Rows;

    /// <summary>
    /// Appends rows <paramref name="skip"/> .. <paramref name="skip"/>+<paramref name="take"/> of a row group's column
    /// to <paramref name="target"/>, leaving out rows whose <paramref name="keep"/> entry is false. Returns the count appended.
    /// </summary>
    public int CopyColumn(int group, int column, ParquetColumnWriter target, int skip, int take, bool[]? keep = null)
    {
        var sink = new WriterSink(target);
        Decode(group, column, ref sink, skip, take, keep);
        return sink.Count;
    }

    /// <summary>A row group's column, boxed in canonical form (timestamps as microseconds).</summary>
    public object?[] ReadColumn(int group, int column)
    {
        var sink = new BoxingSink(new object?[_groups[group].Rows]);
        Decode(group, column, ref sink, 0, _groups[group].Rows, keep: null);
        return sink.Values;
    }

    public void Dispose() => _handle.Dispose();

    private void Decode<TSink>(int group, int column, ref TSink sink, int skip, int take, bool[]? keep)
        where TSink : struct, IValueSink
    {
        var (numRows, chunks) = _groups[group];
        var end = Math.Min(numRows, skip + take);
        bool Selected(int row) => row >= skip && row < end && (keep is null || keep[row]);

        var leaf = _leafOfColumn[column];
        if (leaf < 0)
        {
            for (var r = skip; r < end; r++)
                if (Selected(r)) sink.Null();
            return;
        }

        var field = _schema.Fields[column];
        var meta = chunks[leaf];
        if (meta.Has(11)) throw new NotSupportedException("Dictionary-encoded chunks are not supported.");
        var codec = (ParquetCompression)meta.Int(4);
        var chunkSize = checked((int)meta.Long(7));
        var chunk = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            if (RandomAccess.Read(_handle, chunk.AsSpan(0, chunkSize), meta.Long(9)) != chunkSize)
                throw new InvalidDataException($"Column chunk of '{field.Name}' runs past the end of the file.");
            var pos = 0;
            var row = 0;
            while (row < end)
            {
                var headerReader = new ThriftCompactReader(chunk.AsSpan(pos, chunkSize - pos));
                var header = headerReader.ReadStruct();
                pos += headerReader.Position;
                var compressedSize = header.Int(3);
                if (header.Int(1) != 0) throw new NotSupportedException($"Page type {header.Int(1)} is not supported.");
                var pageHeader = header.Struct(5);
                var count = pageHeader.Int(1);
                if (pageHeader.Int(2) != 0) throw new NotSupportedException("Only PLAIN values are supported.");
                if (row + count <= skip)
                {
                    pos += compressedSize;
                    row += count;
                    continue;
                }

                var rented = Decompress(chunk.AsMemory(pos, compressedSize), codec, header.Int(2), out var body);
                try
                {
                    var offset = 0;
                    int[]? levels = null;
                    if (!field.Required)
                    {
                        var levelBytes = BinaryPrimitives.ReadInt32LittleEndian(body.Span);
                        levels = RleHybrid.Decode(body.Span.Slice(4, levelBytes), 1, count);
                        offset = 4 + levelBytes;
                    }
                    var data = body.Span[offset..];
                    var valuePos = 0;
                    var boolIndex = 0;
                    for (var i = 0; i < count && row < end; i++, row++)
                    {
                        var selected = Selected(row);
                        if (levels is not null && levels[i] == 0)
                        {
                            if (selected) sink.Null();
                            continue;
                        }
                        switch (field.Type)
                        {
                            case ColumnType.Boolean:
                                if (selected) sink.Boolean(((data[boolIndex >> 3] >> (boolIndex & 7)) & 1) != 0);
                                boolIndex++;
                                break;
                            case ColumnType.Int:
                                if (selected) sink.Int(BinaryPrimitives.ReadInt32LittleEndian(data[valuePos..]));
                                valuePos += 4;
                                break;
                            case ColumnType.Long:
                            case ColumnType.TimestampTz:
                                if (selected) sink.Long(BinaryPrimitives.ReadInt64LittleEndian(data[valuePos..]));
                                valuePos += 8;
                                break;
                            case ColumnType.Double:
                                if (selected) sink.Double(BinaryPrimitives.ReadDoubleLittleEndian(data[valuePos..]));
                                valuePos += 8;
                                break;
                            case ColumnType.String:
                            {
                                var len = BinaryPrimitives.ReadInt32LittleEndian(data[valuePos..]);
                                if (selected) sink.Utf8(data.Slice(valuePos + 4, len));
                                valuePos += 4 + len;
                                break;
                            }
                            default:
                                throw new ArgumentOutOfRangeException(nameof(column));
                        }
                    }
                }
                finally
                {
                    if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
                }
                pos += compressedSize;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    /// <summary>The page body; a pooled array to return when the codec needed one, null otherwise.</summary>
    private static byte[]? Decompress(ReadOnlyMemory<byte> page, ParquetCompression codec, int uncompressedSize, out ReadOnlyMemory<byte> body)
    {
        switch (codec)
        {
            case ParquetCompression.Uncompressed:
                body = page;
                return null;
            case ParquetCompression.Snappy:
                body = Snappy.Decompress(page.Span);
                return null;
            case ParquetCompression.Gzip:
            {
                var output = ArrayPool<byte>.Shared.Rent(uncompressedSize);
                if (!System.Runtime.InteropServices.MemoryMarshal.TryGetArray(page, out var segment))
                    throw new InvalidOperationException("Pages are read from arrays.");
                using (var gz = new GZipStream(new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false), CompressionMode.Decompress))
                    gz.ReadExactly(output, 0, uncompressedSize);
                body = output.AsMemory(0, uncompressedSize);
                return output;
            }
            default:
                throw new NotSupportedException($"Codec {codec} is not supported.");
        }
    }

    private interface IValueSink
    {
        void Null();
        void Boolean(bool value);
        void Int(int value);
        void Long(long value);
        void Double(double value);
        void Utf8(ReadOnlySpan<byte> value);
    }

    private struct WriterSink(ParquetColumnWriter target) : IValueSink
    {
        public int Count { get; private set; }
        public void Null() { target.AppendNull(); Count++; }
        public void Boolean(bool value) { target.AppendBoolean(value); Count++; }
        public void Int(int value) { target.AppendInt(value); Count++; }
        public void Long(long value) { target.AppendLong(value); Count++; }
        public void Double(double value) { target.AppendDouble(value); Count++; }
        public void Utf8(ReadOnlySpan<byte> value) { target.AppendUtf8(value); Count++; }
    }

    private struct BoxingSink(object?[] values) : IValueSink
    {
        private int _next;
        public readonly object?[] Values => values;
        public void Null() => values[_next++] = null;
        public void Boolean(bool value) => values[_next++] = value;
        public void Int(int value) => values[_next++] = value;
        public void Long(long value) => values[_next++] = value;
        public void Double(double value) => values[_next++] = value;
        public void Utf8(ReadOnlySpan<byte> value) => values[_next++] = Encoding.UTF8.GetString(value);
    }
}
