using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>One column chunk of a row group as the footer describes it.</summary>
internal sealed record ColumnChunkInfo(SchemaField Field, long DataPageOffset, long NumValues, long UncompressedSize, long CompressedSize, ColumnStatistics Stats);

/// <summary>
/// Encodes one column of the open row group: values go into a PLAIN page of at most
/// <see cref="ParquetWriteOptions.PageSizeBytes"/>, closed pages are compressed and kept until the row group ends,
/// because a chunk's pages must lie together in the file. Memory is one page plus the row group's compressed chunk,
/// whatever the number of rows in the file.
/// </summary>
internal sealed class ParquetColumnWriter
{
    private readonly ParquetWriteOptions _options;
    private readonly List<int> _levels = new(1 << 12);
    private readonly ArrayBufferWriter<byte> _values = new(1 << 12);
    private readonly ArrayBufferWriter<byte> _body = new(1 << 12);
    private readonly ArrayBufferWriter<byte> _levelBytes = new(1 << 8);
    // The row group's pages, each its own array: one growing buffer for the chunk reached megabytes, on the large object heap.
    private readonly List<byte[]> _chunk = [];
    private long _chunkCompressed;
    private readonly MemoryStream _compressed = new();
    private readonly ColumnStatistics _fileStats;
    private ColumnStatistics _chunkStats;
    private byte _boolByte;
    private int _boolBits;
    private int _pageValues;
    private long _chunkUncompressed;
    private long _fileValues;
    private long _fileSize;

    public ParquetColumnWriter(SchemaField field, ParquetWriteOptions options)
    {
        Field = field;
        _options = options;
        _fileStats = new ColumnStatistics(field.Type);
        _chunkStats = new ColumnStatistics(field.Type);
    }

    public SchemaField Field { get; }

    /// <summary>Values (nulls included) appended to the open row group.</summary>
    public int ChunkValues { get; private set; }

    public void AppendNull()
    {
        if (Field.Required) throw new ArgumentException($"Null in required column '{Field.Name}'.");
        _chunkStats.Nulls++;
        Appended(defined: false);
    }

    public void AppendBoolean(bool value)
    {
        Expect(ColumnType.Boolean);
        // PLAIN booleans are bit-packed, least significant bit first.
        if (value) _boolByte |= (byte)(1 << _boolBits);
        if (++_boolBits == 8) FlushBoolByte();
        _chunkStats.AddBoolean(value);
        Appended();
    }

    public void AppendInt(int value)
    {
        Expect(ColumnType.Int);
        BinaryPrimitives.WriteInt32LittleEndian(_values.GetSpan(4), value);
        _values.Advance(4);
        _chunkStats.AddLong(value);
        Appended();
    }

    /// <summary>A Long, or a TimestampTz in microseconds.</summary>
    public void AppendLong(long value)
    {
        if (Field.Type is not (ColumnType.Long or ColumnType.TimestampTz)) Expect(ColumnType.Long);
        BinaryPrimitives.WriteInt64LittleEndian(_values.GetSpan(8), value);
        _values.Advance(8);
        _chunkStats.AddLong(value);
        Appended();
    }

    public void AppendDouble(double value)
    {
        Expect(ColumnType.Double);
        BinaryPrimitives.WriteDoubleLittleEndian(_values.GetSpan(8), value);
        _values.Advance(8);
        _chunkStats.AddDouble(value);
        Appended();
    }

    public void AppendUtf8(ReadOnlySpan<byte> value)
    {
        Expect(ColumnType.String);
        var span = _values.GetSpan(4 + value.Length);
        BinaryPrimitives.WriteInt32LittleEndian(span, value.Length);
        value.CopyTo(span[4..]);
        _values.Advance(4 + value.Length);
        _chunkStats.AddUtf8(span.Slice(4, value.Length));
        Appended();
    }

    public void AppendString(string value)
    {
        Expect(ColumnType.String);
        var span = _values.GetSpan(4 + Encoding.UTF8.GetMaxByteCount(value.Length));
        var n = Encoding.UTF8.GetBytes(value, span[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(span, n);
        _values.Advance(4 + n);
        _chunkStats.AddUtf8(span.Slice(4, n));
        Appended();
    }

    /// <summary>A value in canonical form (<see cref="ColumnValues.Canonical"/>).</summary>
    public void Append(object? canonical)
    {
        switch (canonical)
        {
            case null: AppendNull(); break;
            case bool b: AppendBoolean(b); break;
            case int i: AppendInt(i); break;
            case long l: AppendLong(l); break;
            case double d: AppendDouble(d); break;
            case string s: AppendString(s); break;
            default: throw new ArgumentException($"A {canonical.GetType().Name} is not a canonical column value.", nameof(canonical));
        }
    }

    /// <summary>Writes the open chunk's pages at the sink's position and starts the next chunk.</summary>
    public ColumnChunkInfo WriteChunk(CountingSink sink)
    {
        if (_pageValues > 0) FlushPage();
        var info = new ColumnChunkInfo(Field, sink.Position, ChunkValues, _chunkUncompressed, _chunkCompressed, _chunkStats);
        foreach (var page in _chunk) sink.Write(page);
        _fileStats.Merge(_chunkStats);
        _fileValues += ChunkValues;
        _fileSize += _chunkCompressed;
        _chunk.Clear();
        _chunkCompressed = 0;
        _chunkStats = new ColumnStatistics(Field.Type);
        _chunkUncompressed = 0;
        ChunkValues = 0;
        return info;
    }

    public ColumnMetrics FileMetrics() => new(
        Field.Id, _fileValues, _fileStats.Nulls, Field.Type == ColumnType.Double ? _fileStats.NaNs : null,
        _fileStats.Lower(), _fileStats.Upper(), _fileSize);

    private void Expect(ColumnType type)
    {
        if (Field.Type != type) throw new ArgumentException($"A {type} value cannot be stored in the {Field.Type} column '{Field.Name}'.");
    }

    private void Appended(bool defined = true)
    {
        if (!Field.Required) _levels.Add(defined ? 1 : 0);
        _pageValues++;
        ChunkValues++;
        if (_values.WrittenCount >= _options.PageSizeBytes || _pageValues >= _options.PageValueLimit) FlushPage();
    }

    private void FlushBoolByte()
    {
        _values.GetSpan(1)[0] = _boolByte;
        _values.Advance(1);
        _boolByte = 0;
        _boolBits = 0;
    }

    private void FlushPage()
    {
        if (_boolBits > 0) FlushBoolByte();
        _body.ResetWrittenCount();
        if (!Field.Required)
        {
            // Data page v1 prefixes the definition levels with their byte length.
            _levelBytes.ResetWrittenCount();
            RleHybrid.Encode(CollectionsMarshal.AsSpan(_levels), 1, _levelBytes);
            BinaryPrimitives.WriteInt32LittleEndian(_body.GetSpan(4), _levelBytes.WrittenCount);
            _body.Advance(4);
            _body.Write(_levelBytes.WrittenSpan);
        }
        _body.Write(_values.WrittenSpan);
        var uncompressed = _body.WrittenSpan;
        var compressed = Compress(uncompressed);

        var header = new ThriftCompactWriter();
        header.BeginStruct();
        header.I32Field(1, 0); // DATA_PAGE
        header.I32Field(2, uncompressed.Length);
        header.I32Field(3, compressed.Length);
        header.BeginStructField(5);
        header.I32Field(1, _pageValues);
        header.I32Field(2, 0); // PLAIN
        header.I32Field(3, 3); // RLE
        header.I32Field(4, 3); // RLE
        header.EndStruct();
        header.EndStruct();

        var page = new byte[header.WrittenSpan.Length + compressed.Length];
        header.WrittenSpan.CopyTo(page);
        compressed.CopyTo(page.AsSpan(header.WrittenSpan.Length));
        _chunk.Add(page);
        _chunkCompressed += page.Length;
        _chunkUncompressed += header.WrittenSpan.Length + uncompressed.Length;
        _levels.Clear();
        _values.ResetWrittenCount();
        _pageValues = 0;
    }

    private ReadOnlySpan<byte> Compress(ReadOnlySpan<byte> data)
    {
        switch (_options.Compression)
        {
            case ParquetCompression.Uncompressed:
                return data;
            case ParquetCompression.Gzip:
            {
                _compressed.SetLength(0);
                using (var gz = new GZipStream(_compressed, _options.GzipLevel, leaveOpen: true))
                    gz.Write(data);
                return _compressed.GetBuffer().AsSpan(0, (int)_compressed.Length);
            }
            case ParquetCompression.Snappy:
                return Snappy.Compress(data);
            default:
                throw new ArgumentOutOfRangeException(nameof(data), $"Unsupported compression {_options.Compression}.");
        }
    }
}
