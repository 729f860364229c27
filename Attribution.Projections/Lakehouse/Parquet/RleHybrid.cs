using System.Buffers;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// Parquet's RLE / bit-packed hybrid encoding (used here for definition levels). A run of eight or more equal
/// values becomes an RLE run; everything else is bit-packed in groups of eight, least significant bit first.
/// </summary>
internal static class RleHybrid
{
    // Kept below 64 groups so a bit-packed header always fits one varint byte, as parquet-mr does.
    private const int MaxGroupsPerBitPackedRun = 63;

    public static int BitWidth(int maxValue) => maxValue == 0 ? 0 : 32 - int.LeadingZeroCount(maxValue);

    public static void Encode(ReadOnlySpan<int> values, int bitWidth, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (bitWidth is < 1 or > 32) throw new ArgumentOutOfRangeException(nameof(bitWidth));
        var pendingStart = 0;
        var i = 0;
        while (i < values.Length)
        {
            var run = RunLength(values, i);
            var pending = i - pendingStart;
            if (pending % 8 != 0)
            {
                // A bit-packed run holds whole groups of eight, so literals are topped up from the next run first;
                // padding in the middle of the data would add values.
                i += Math.Min(run, 8 - pending % 8);
                continue;
            }
            if (run >= 8)
            {
                WriteBitPacked(values[pendingStart..i], bitWidth, output);
                WriteRle(values[i], run, bitWidth, output);
                i += run;
                pendingStart = i;
            }
            else
            {
                i += run;
            }
        }
        WriteBitPacked(values[pendingStart..], bitWidth, output);
    }

    private static int RunLength(ReadOnlySpan<int> values, int start)
    {
        var end = start + 1;
        while (end < values.Length && values[end] == values[start]) end++;
        return end - start;
    }

    private static void WriteRle(int value, int count, int bitWidth, IBufferWriter<byte> output)
    {
        WriteVarint((uint)count << 1, output);
        var bytes = (bitWidth + 7) / 8;
        var span = output.GetSpan(bytes);
        for (var b = 0; b < bytes; b++) span[b] = (byte)(value >> (8 * b));
        output.Advance(bytes);
    }

    private static void WriteBitPacked(ReadOnlySpan<int> values, int bitWidth, IBufferWriter<byte> output)
    {
        while (values.Length > 0)
        {
            var groups = Math.Min((values.Length + 7) / 8, MaxGroupsPerBitPackedRun);
            var take = Math.Min(values.Length, groups * 8);
            WriteVarint(((uint)groups << 1) | 1, output);
            var byteCount = groups * bitWidth;
            var span = output.GetSpan(byteCount)[..byteCount];
            span.Clear();
            long bitPos = 0;
            for (var v = 0; v < take; v++, bitPos += bitWidth)
            {
                var value = (uint)values[v];
                for (var bit = 0; bit < bitWidth; bit++)
                {
                    if (((value >> bit) & 1) != 0)
                    {
                        var p = bitPos + bit;
                        span[(int)(p >> 3)] |= (byte)(1 << (int)(p & 7));
                    }
                }
            }
            output.Advance(byteCount);
            values = values[take..];
        }
    }

    private static void WriteVarint(uint v, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(5);
        var n = 0;
        while (v >= 0x80)
        {
            span[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        span[n++] = (byte)v;
        output.Advance(n);
    }

    /// <summary>Decodes exactly <paramref name="count"/> values; trailing padding of the last bit-packed run is ignored.</summary>
    public static int[] Decode(ReadOnlySpan<byte> data, int bitWidth, int count)
    {
        var result = new int[count];
        var filled = 0;
        var pos = 0;
        while (filled < count)
        {
            uint header = 0;
            var shift = 0;
            byte b;
            do
            {
                b = data[pos++];
                header |= (uint)(b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);

            if ((header & 1) == 0)
            {
                var run = (int)(header >> 1);
                var bytes = (bitWidth + 7) / 8;
                var value = 0;
                for (var k = 0; k < bytes; k++) value |= data[pos++] << (8 * k);
                var n = Math.Min(run, count - filled);
                result.AsSpan(filled, n).Fill(value);
                filled += n;
            }
            else
            {
                var values = (int)(header >> 1) * 8;
                long bitPos = (long)pos * 8;
                for (var v = 0; v < values; v++, bitPos += bitWidth)
                {
                    if (filled >= count) continue;
                    var value = 0;
                    for (var bit = 0; bit < bitWidth; bit++)
                    {
                        var p = bitPos + bit;
                        if ((data[(int)(p >> 3)] >> (int)(p & 7) & 1) != 0) value |= 1 << bit;
                    }
                    result[filled++] = value;
                }
                pos += (int)(header >> 1) * bitWidth;
            }
        }
        return result;
    }
}
