using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Attribution.Projections.Lakehouse.Iceberg;

/// <summary>
/// 32-bit Murmur3, x86 variant, seed 0 — the hash Iceberg's bucket transform is defined on (spec Appendix B).
/// Ints and longs hash the same 8 little-endian bytes so that promoting int to long keeps bucket values.
/// </summary>
public static class Murmur3
{
    private const uint C1 = 0xcc9e2d51;
    private const uint C2 = 0x1b873593;

    public static int Hash(ReadOnlySpan<byte> data, uint seed = 0)
    {
        var h = seed;
        var blocks = data.Length / 4;
        for (var i = 0; i < blocks; i++)
        {
            var k = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4));
            h ^= MixK(k);
            h = BitOperations.RotateLeft(h, 13);
            h = h * 5 + 0xe6546b64;
        }
        var tail = data[(blocks * 4)..];
        uint t = 0;
        switch (tail.Length)
        {
            case 3:
                t ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                t ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                t ^= tail[0];
                h ^= MixK(t);
                break;
        }
        h ^= (uint)data.Length;
        h ^= h >> 16;
        h *= 0x85ebca6b;
        h ^= h >> 13;
        h *= 0xc2b2ae35;
        h ^= h >> 16;
        return (int)h;
    }

    private static uint MixK(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }

    public static int HashLong(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return Hash(bytes);
    }

    public static int HashString(string value) => Hash(Encoding.UTF8.GetBytes(value));

    /// <summary>Iceberg's hash of a canonical value of the given column type.</summary>
    public static int HashValue(ColumnType type, object canonical) => type switch
    {
        ColumnType.Int => HashLong((int)canonical),
        ColumnType.Long or ColumnType.TimestampTz => HashLong((long)canonical),
        ColumnType.String => HashString((string)canonical),
        _ => throw new NotSupportedException($"Iceberg does not define bucketing for {type}."),
    };

    /// <summary><c>(hash &amp; Integer.MAX_VALUE) % n</c>: discard the sign bit, then take the remainder.</summary>
    public static int Bucket(int hash, int buckets) => (hash & int.MaxValue) % buckets;
}
