using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Attribution.Projections.Lakehouse.Avro;

/// <summary>Avro binary encoding of primitives: ints and longs as zigzag varints, lengths before bytes and strings.</summary>
internal sealed class AvroWriter(ArrayBufferWriter<byte> output)
{
    public ArrayBufferWriter<byte> Output { get; } = output;

    public void Long(long value)
    {
        var v = (ulong)((value << 1) ^ (value >> 63));
        var span = Output.GetSpan(10);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        Output.Advance(n);
    }

    public void Int(int value) => Long(value);

    public void Boolean(bool value)
    {
        Output.GetSpan(1)[0] = value ? (byte)1 : (byte)0;
        Output.Advance(1);
    }

    public void Float(float value)
    {
        BinaryPrimitives.WriteSingleLittleEndian(Output.GetSpan(4), value);
        Output.Advance(4);
    }

    public void Double(double value)
    {
        BinaryPrimitives.WriteDoubleLittleEndian(Output.GetSpan(8), value);
        Output.Advance(8);
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        Long(value.Length);
        Fixed(value);
    }

    public void Fixed(ReadOnlySpan<byte> value)
    {
        value.CopyTo(Output.GetSpan(value.Length));
        Output.Advance(value.Length);
    }

    public void String(string value)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 1024)
        {
            Span<byte> buffer = stackalloc byte[max];
            Bytes(buffer[..Encoding.UTF8.GetBytes(value, buffer)]);
        }
        else
        {
            Bytes(Encoding.UTF8.GetBytes(value));
        }
    }
}

internal sealed class AvroReader(ReadOnlyMemory<byte> data)
{
    private readonly ReadOnlyMemory<byte> _data = data;

    public int Position { get; set; }

    public bool AtEnd => Position >= _data.Length;

    public long Long()
    {
        var span = _data.Span;
        ulong result = 0;
        var shift = 0;
        while (true)
        {
            var b = span[Position++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            shift += 7;
            if (shift > 63) throw new InvalidDataException("Avro varint too long.");
        }
        return (long)(result >> 1) ^ -(long)(result & 1);
    }

    public int Int() => checked((int)Long());

    public bool Boolean() => _data.Span[Position++] != 0;

    public float Float()
    {
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data.Span[Position..]);
        Position += 4;
        return v;
    }

    public double Double()
    {
        var v = BinaryPrimitives.ReadDoubleLittleEndian(_data.Span[Position..]);
        Position += 8;
        return v;
    }

    public ReadOnlyMemory<byte> Fixed(int length)
    {
        var slice = _data.Slice(Position, length);
        Position += length;
        return slice;
    }

    public byte[] Bytes() => Fixed(checked((int)Long())).ToArray();

    public string String() => Encoding.UTF8.GetString(Fixed(checked((int)Long())).Span);
}
