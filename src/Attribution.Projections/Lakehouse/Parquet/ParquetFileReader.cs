using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

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

    /// <summary>Rows in schema order with canonical values (timestamps as microseconds), ready to be written again.</summary>
    internal static List<object?[]> ReadCanonicalRows(string path, TableSchema schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        var data = File.ReadAllBytes(path);
        var footer = ReadFooter(data);
        var leaves = footer.List(2).Skip(1).Cast<ThriftStruct>().ToList();
        var leafByFieldId = new Dictionary<int, int>();
        for (var i = 0; i < leaves.Count; i++)
            if (leaves[i].Has(9)) leafByFieldId[leaves[i].Int(9)] = i;

        var rows = new List<object?[]>(checked((int)footer.Long(3)));
        foreach (ThriftStruct rowGroup in footer.List(4))
        {
            var numRows = checked((int)rowGroup.Long(3));
            var chunks = rowGroup.List(1);
            var columns = new object?[schema.Fields.Count][];
            for (var c = 0; c < schema.Fields.Count; c++)
            {
                var field = schema.Fields[c];
                // A column missing from the file (added to the schema later) reads as nulls.
                columns[c] = leafByFieldId.TryGetValue(field.Id, out var leaf)
                    ? ReadChunk(data, ((ThriftStruct)chunks[leaf]).Struct(3), field, numRows)
                    : new object?[numRows];
            }
            for (var r = 0; r < numRows; r++)
            {
                var row = new object?[schema.Fields.Count];
                for (var c = 0; c < row.Length; c++) row[c] = columns[c][r];
                rows.Add(row);
            }
        }
        return rows;
    }

    internal static ThriftStruct ReadFooter(ReadOnlySpan<byte> file)
    {
        if (file.Length < 12 || !file[..4].SequenceEqual("PAR1"u8) || !file[^4..].SequenceEqual("PAR1"u8))
            throw new InvalidDataException("Not a Parquet file.");
        var length = BinaryPrimitives.ReadInt32LittleEndian(file[^8..]);
        var reader = new ThriftCompactReader(file.Slice(file.Length - 8 - length, length));
        return reader.ReadStruct();
    }

    private static object?[] ReadChunk(byte[] data, ThriftStruct meta, SchemaField field, int numRows)
    {
        if (meta.Has(11)) throw new NotSupportedException("Dictionary-encoded chunks are not supported.");
        var codec = (ParquetCompression)meta.Int(4);
        var values = new object?[numRows];
        var filled = 0;
        var pos = checked((int)meta.Long(9));
        while (filled < numRows)
        {
            var headerReader = new ThriftCompactReader(data.AsSpan(pos));
            var header = headerReader.ReadStruct();
            pos += headerReader.Position;
            var compressedSize = header.Int(3);
            if (header.Int(1) != 0) throw new NotSupportedException($"Page type {header.Int(1)} is not supported.");
            var pageHeader = header.Struct(5);
            var count = pageHeader.Int(1);
            if (pageHeader.Int(2) != 0) throw new NotSupportedException("Only PLAIN values are supported.");
            var body = Decompress(data.AsSpan(pos, compressedSize), codec, header.Int(2));
            pos += compressedSize;

            var offset = 0;
            int[]? levels = null;
            if (!field.Required)
            {
                var levelBytes = BinaryPrimitives.ReadInt32LittleEndian(body);
                levels = RleHybrid.Decode(body.AsSpan(4, levelBytes), 1, count);
                offset = 4 + levelBytes;
            }
            DecodePlain(body.AsSpan(offset), field.Type, levels, values.AsSpan(filled, count));
            filled += count;
        }
        return values;
    }

    private static byte[] Decompress(ReadOnlySpan<byte> page, ParquetCompression codec, int uncompressedSize)
    {
        switch (codec)
        {
            case ParquetCompression.Uncompressed:
                return page.ToArray();
            case ParquetCompression.Snappy:
                return Snappy.Decompress(page);
            case ParquetCompression.Gzip:
            {
                var output = new byte[uncompressedSize];
                using var gz = new GZipStream(new MemoryStream(page.ToArray()), CompressionMode.Decompress);
                gz.ReadExactly(output);
                return output;
            }
            default:
                throw new NotSupportedException($"Codec {codec} is not supported.");
        }
    }

    private static void DecodePlain(ReadOnlySpan<byte> data, ColumnType type, int[]? levels, Span<object?> target)
    {
        var pos = 0;
        var boolIndex = 0;
        for (var i = 0; i < target.Length; i++)
        {
            if (levels is not null && levels[i] == 0)
            {
                target[i] = null;
                continue;
            }
            switch (type)
            {
                case ColumnType.Boolean:
                    target[i] = ((data[boolIndex >> 3] >> (boolIndex & 7)) & 1) != 0;
                    boolIndex++;
                    break;
                case ColumnType.Int:
                    target[i] = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
                    pos += 4;
                    break;
                case ColumnType.Long:
                case ColumnType.TimestampTz:
                    target[i] = BinaryPrimitives.ReadInt64LittleEndian(data[pos..]);
                    pos += 8;
                    break;
                case ColumnType.Double:
                    target[i] = BinaryPrimitives.ReadDoubleLittleEndian(data[pos..]);
                    pos += 8;
                    break;
                case ColumnType.String:
                {
                    var len = BinaryPrimitives.ReadInt32LittleEndian(data[pos..]);
                    target[i] = Encoding.UTF8.GetString(data.Slice(pos + 4, len));
                    pos += 4 + len;
                    break;
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(type));
            }
        }
    }
}
