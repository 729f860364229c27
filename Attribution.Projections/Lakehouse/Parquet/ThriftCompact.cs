using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>Element/field type codes of the Thrift compact protocol.</summary>
internal enum CompactType : byte
{
    Stop = 0,
    BoolTrue = 1,
    BoolFalse = 2,
    Byte = 3,
    I16 = 4,
    I32 = 5,
    I64 = 6,
    Double = 7,
    Binary = 8,
    List = 9,
    Set = 10,
    Map = 11,
    Struct = 12,
}

/// <summary>
/// Thrift compact protocol encoder, just what Parquet's footer and page headers need. Callers write fields in
/// ascending id order (as generated Thrift code does) and bracket nested structs with Begin/EndStruct.
/// </summary>
internal sealed class ThriftCompactWriter
{
    private readonly ArrayBufferWriter<byte> _out;
    private readonly Stack<short> _lastIds = new();
    private short _lastId;

    public ThriftCompactWriter(ArrayBufferWriter<byte>? output = null) => _out = output ?? new ArrayBufferWriter<byte>(256);

    public ReadOnlySpan<byte> WrittenSpan => _out.WrittenSpan;

    public byte[] ToArray() => _out.WrittenSpan.ToArray();

    public void FieldHeader(short id, CompactType type)
    {
        var delta = id - _lastId;
        if (delta is > 0 and <= 15)
        {
            WriteByte((byte)((delta << 4) | (byte)type));
        }
        else
        {
            // Long form: the type byte alone, then the id as a zigzag varint i16.
            WriteByte((byte)type);
            WriteVarint(ZigZag(id));
        }
        _lastId = id;
    }

    public void I32Field(short id, int value)
    {
        FieldHeader(id, CompactType.I32);
        WriteVarint(ZigZag(value));
    }

    public void I64Field(short id, long value)
    {
        FieldHeader(id, CompactType.I64);
        WriteVarint(ZigZag(value));
    }

    public void I16Field(short id, short value)
    {
        FieldHeader(id, CompactType.I16);
        WriteVarint(ZigZag(value));
    }

    public void ByteField(short id, sbyte value)
    {
        FieldHeader(id, CompactType.Byte);
        WriteByte((byte)value);
    }

    /// <summary>Booleans in fields carry their value in the type nibble and have no payload.</summary>
    public void BoolField(short id, bool value) => FieldHeader(id, value ? CompactType.BoolTrue : CompactType.BoolFalse);

    public void BinaryField(short id, ReadOnlySpan<byte> value)
    {
        FieldHeader(id, CompactType.Binary);
        Binary(value);
    }

    public void StringField(short id, string value) => BinaryField(id, Encoding.UTF8.GetBytes(value));

    public void BeginStructField(short id)
    {
        FieldHeader(id, CompactType.Struct);
        BeginStruct();
    }

    /// <summary>Starts a struct value (a field's or a list element's): field ids restart from zero inside it.</summary>
    public void BeginStruct()
    {
        _lastIds.Push(_lastId);
        _lastId = 0;
    }

    public void EndStruct()
    {
        WriteByte((byte)CompactType.Stop);
        _lastId = _lastIds.Pop();
    }

    public void ListFieldHeader(short id, CompactType elementType, int count)
    {
        FieldHeader(id, CompactType.List);
        ListHeader(elementType, count);
    }

    public void ListHeader(CompactType elementType, int count)
    {
        if (count < 15)
        {
            WriteByte((byte)((count << 4) | (byte)elementType));
        }
        else
        {
            WriteByte((byte)(0xF0 | (byte)elementType));
            WriteVarint((uint)count);
        }
    }

    public void I32(int value) => WriteVarint(ZigZag(value));

    public void Binary(ReadOnlySpan<byte> value)
    {
        WriteVarint((uint)value.Length);
        value.CopyTo(_out.GetSpan(value.Length));
        _out.Advance(value.Length);
    }

    public void String(string value) => Binary(Encoding.UTF8.GetBytes(value));

    private void WriteByte(byte b)
    {
        _out.GetSpan(1)[0] = b;
        _out.Advance(1);
    }

    private void WriteVarint(ulong v)
    {
        var span = _out.GetSpan(10);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        _out.Advance(n);
    }

    internal static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    internal static ulong ZigZag(int v) => (uint)((v << 1) ^ (v >> 31));
}

/// <summary>A decoded Thrift struct: field id to value (long, bool, double, byte[], List&lt;object&gt;, ThriftStruct).</summary>
internal sealed class ThriftStruct
{
    public Dictionary<short, object> Fields { get; } = [];

    public bool Has(short id) => Fields.ContainsKey(id);

    public long Long(short id) => (long)Fields[id];

    public int Int(short id) => checked((int)(long)Fields[id]);

    public byte[] Bytes(short id) => (byte[])Fields[id];

    public string String(short id) => Encoding.UTF8.GetString(Bytes(id));

    public ThriftStruct Struct(short id) => (ThriftStruct)Fields[id];

    public List<object> List(short id) => (List<object>)Fields[id];

    public ThriftStruct? OptionalStruct(short id) => Fields.TryGetValue(id, out var v) ? (ThriftStruct)v : null;
}

/// <summary>Generic compact protocol decoder: reads any struct without generated code, enough to read our own files back.</summary>
internal ref struct ThriftCompactReader
{
    private readonly ReadOnlySpan<byte> _data;

    public ThriftCompactReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        Position = 0;
    }

    public int Position { get; private set; }

    public ThriftStruct ReadStruct()
    {
        var result = new ThriftStruct();
        short lastId = 0;
        while (true)
        {
            var header = _data[Position++];
            var type = (CompactType)(header & 0x0F);
            if (type == CompactType.Stop) return result;
            var delta = header >> 4;
            var id = delta != 0 ? (short)(lastId + delta) : (short)UnZigZag32(ReadVarint());
            lastId = id;
            result.Fields[id] = type switch
            {
                CompactType.BoolTrue => true,
                CompactType.BoolFalse => false,
                _ => ReadValue(type),
            };
        }
    }

    private object ReadValue(CompactType type)
    {
        switch (type)
        {
            case CompactType.BoolTrue:
            case CompactType.BoolFalse:
                // Inside lists a bool is one byte of its own.
                return _data[Position++] == (byte)CompactType.BoolTrue;
            case CompactType.Byte:
                return (long)(sbyte)_data[Position++];
            case CompactType.I16:
            case CompactType.I32:
            case CompactType.I64:
                return UnZigZag64(ReadVarint());
            case CompactType.Double:
            {
                var d = BinaryPrimitives.ReadDoubleLittleEndian(_data.Slice(Position, 8));
                Position += 8;
                return d;
            }
            case CompactType.Binary:
            {
                var len = checked((int)ReadVarint());
                var bytes = _data.Slice(Position, len).ToArray();
                Position += len;
                return bytes;
            }
            case CompactType.List:
            case CompactType.Set:
            {
                var header = _data[Position++];
                var count = header >> 4;
                if (count == 15) count = checked((int)ReadVarint());
                var elementType = (CompactType)(header & 0x0F);
                var list = new List<object>(count);
                for (var i = 0; i < count; i++) list.Add(ReadValue(elementType));
                return list;
            }
            case CompactType.Struct:
                return ReadStruct();
            default:
                throw new InvalidDataException($"Unsupported Thrift compact type {type}.");
        }
    }

    private ulong ReadVarint()
    {
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            var b = _data[Position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
            shift += 7;
            if (shift > 63) throw new InvalidDataException("Varint too long.");
        }
    }

    private static long UnZigZag64(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static int UnZigZag32(ulong v) => (int)UnZigZag64(v);
}
