using System.Buffers.Binary;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// Raw Snappy block format (no framing), as Parquet pages use it: a varint of the uncompressed length, then
/// literals and back-references. The compressor is a plain greedy matcher over a 4-byte hash table; it aims at
/// correctness and a reasonable ratio, not at the reference implementation's speed.
/// </summary>
internal static class Snappy
{
    private const int HashBits = 14;
    private const int MaxOffset = 65535;

    public static byte[] Compress(ReadOnlySpan<byte> input)
    {
        var output = new byte[MaxCompressedLength(input.Length)];
        var op = WriteVarint(output, 0, (uint)input.Length);
        var table = new int[1 << HashBits];
        Array.Fill(table, -1);
        var literalStart = 0;
        var i = 0;
        var limit = input.Length - 4;
        while (i <= limit)
        {
            var h = Hash(BinaryPrimitives.ReadUInt32LittleEndian(input[i..]));
            var candidate = table[h];
            table[h] = i;
            if (candidate >= 0 && i - candidate <= MaxOffset &&
                BinaryPrimitives.ReadUInt32LittleEndian(input[candidate..]) == BinaryPrimitives.ReadUInt32LittleEndian(input[i..]))
            {
                var length = 4;
                while (i + length < input.Length && input[candidate + length] == input[i + length]) length++;
                op = EmitLiteral(output, op, input[literalStart..i]);
                op = EmitCopy(output, op, i - candidate, length);
                i += length;
                literalStart = i;
            }
            else
            {
                i++;
            }
        }
        op = EmitLiteral(output, op, input[literalStart..]);
        return output.AsSpan(0, op).ToArray();
    }

    private static int MaxCompressedLength(int n) => 32 + n + n / 6;

    private static int Hash(uint v) => (int)((v * 0x1E35A7BDu) >> (32 - HashBits));

    private static int WriteVarint(byte[] output, int op, uint v)
    {
        while (v >= 0x80)
        {
            output[op++] = (byte)(v | 0x80);
            v >>= 7;
        }
        output[op++] = (byte)v;
        return op;
    }

    private static int EmitLiteral(byte[] output, int op, ReadOnlySpan<byte> literal)
    {
        if (literal.IsEmpty) return op;
        var n = literal.Length - 1;
        if (n < 60)
        {
            output[op++] = (byte)(n << 2);
        }
        else
        {
            // Tag values 60..63 say the length-1 follows in 1..4 little-endian bytes.
            var bytes = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4;
            output[op++] = (byte)((59 + bytes) << 2);
            for (var b = 0; b < bytes; b++) output[op++] = (byte)(n >> (8 * b));
        }
        literal.CopyTo(output.AsSpan(op));
        return op + literal.Length;
    }

    private static int EmitCopy(byte[] output, int op, int offset, int length)
    {
        while (length > 0)
        {
            // The two-byte-offset form carries 1..64 bytes; a remainder below 4 could not use the short form, so
            // leave at least 4 for the final piece.
            var take = length > 64 ? (length - 64 < 4 ? 60 : 64) : length;
            if (take is >= 4 and <= 11 && offset < 2048)
            {
                output[op++] = (byte)(1 | ((take - 4) << 2) | ((offset >> 8) << 5));
                output[op++] = (byte)offset;
            }
            else
            {
                output[op++] = (byte)(2 | ((take - 1) << 2));
                output[op++] = (byte)offset;
                output[op++] = (byte)(offset >> 8);
            }
            length -= take;
        }
        return op;
    }

    public static byte[] Decompress(ReadOnlySpan<byte> input)
    {
        uint length = 0;
        var shift = 0;
        var ip = 0;
        byte b;
        do
        {
            b = input[ip++];
            length |= (uint)(b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);

        var output = new byte[length];
        var op = 0;
        while (ip < input.Length)
        {
            var tag = input[ip++];
            switch (tag & 3)
            {
                case 0:
                {
                    var n = tag >> 2;
                    if (n >= 60)
                    {
                        var bytes = n - 59;
                        n = 0;
                        for (var k = 0; k < bytes; k++) n |= input[ip++] << (8 * k);
                    }
                    n++;
                    input.Slice(ip, n).CopyTo(output.AsSpan(op));
                    ip += n;
                    op += n;
                    break;
                }
                case 1:
                {
                    var len = ((tag >> 2) & 7) + 4;
                    var offset = ((tag >> 5) << 8) | input[ip++];
                    op = CopyBack(output, op, offset, len);
                    break;
                }
                case 2:
                {
                    var len = (tag >> 2) + 1;
                    var offset = input[ip] | (input[ip + 1] << 8);
                    ip += 2;
                    op = CopyBack(output, op, offset, len);
                    break;
                }
                default:
                {
                    var len = (tag >> 2) + 1;
                    var offset = BinaryPrimitives.ReadInt32LittleEndian(input[ip..]);
                    ip += 4;
                    op = CopyBack(output, op, offset, len);
                    break;
                }
            }
        }
        if (op != output.Length) throw new InvalidDataException("Snappy data ended before its declared length.");
        return output;
    }

    private static int CopyBack(byte[] output, int op, int offset, int length)
    {
        if (offset <= 0 || offset > op) throw new InvalidDataException("Snappy back-reference out of range.");
        // Byte by byte on purpose: overlapping copies repeat the last bytes.
        for (var k = 0; k < length; k++, op++) output[op] = output[op - offset];
        return op;
    }
}
