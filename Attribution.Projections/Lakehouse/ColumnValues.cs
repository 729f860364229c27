using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Attribution.Projections.Lakehouse;

/// <summary>
/// Converts the CLR values callers put in rows to one canonical boxed form per column type (bool, int, long, double,
/// string, and long microseconds for timestamps), so that writers, bounds and key comparisons agree on one value.
/// </summary>
public static class ColumnValues
{
    public static object? Canonical(ColumnType type, object? value)
    {
        if (value is null || value is DBNull) return null;
        return type switch
        {
            ColumnType.Boolean => value is bool b ? b : throw Mismatch(type, value),
            ColumnType.Int => value switch
            {
                int i => i,
                short s => (int)s,
                byte u => (int)u,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                _ => throw Mismatch(type, value),
            },
            ColumnType.Long => value switch
            {
                long l => l,
                int i => (long)i,
                short s => (long)s,
                _ => throw Mismatch(type, value),
            },
            ColumnType.Double => value switch
            {
                double d => d,
                float f => (double)f,
                decimal m => (double)m,
                int i => (double)i,
                long l => (double)l,
                _ => throw Mismatch(type, value),
            },
            ColumnType.String => value is string s ? s : throw Mismatch(type, value),
            ColumnType.TimestampTz => TimestampMicros(value),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>Microseconds since 1970-01-01T00:00:00Z; sub-microsecond ticks are dropped towards the past.</summary>
    public static long TimestampMicros(object value) => value switch
    {
        DateTimeOffset o => TicksToMicros(o.UtcTicks),
        // Npgsql hands timestamptz out as DateTime with Kind=Utc; an unspecified kind is taken as UTC rather than
        // silently shifted by the machine's zone.
        DateTime d => TicksToMicros(d.Kind == DateTimeKind.Local ? d.ToUniversalTime().Ticks : d.Ticks),
        long micros => micros,
        _ => throw Mismatch(ColumnType.TimestampTz, value),
    };

    public static DateTimeOffset FromMicros(long micros) =>
        new(DateTime.UnixEpoch.Ticks + micros * 10, TimeSpan.Zero);

    private static long TicksToMicros(long utcTicks) => Math.DivRem(utcTicks - DateTime.UnixEpoch.Ticks, 10, out var rem) - (rem < 0 ? 1 : 0);

    /// <summary>The value as callers get it back from readers: timestamps become <see cref="DateTimeOffset"/>.</summary>
    public static object? ToPublic(ColumnType type, object? canonical) =>
        type == ColumnType.TimestampTz && canonical is long micros ? FromMicros(micros) : canonical;

    /// <summary>
    /// Orders canonical values of one type the way Iceberg and Parquet bounds do: strings by UTF-8 bytes (= code
    /// points), doubles by IEEE total order so that -0.0 precedes +0.0.
    /// </summary>
    public static int Compare(ColumnType type, object a, object b) => type switch
    {
        ColumnType.Boolean => ((bool)a).CompareTo((bool)b),
        ColumnType.Int => ((int)a).CompareTo((int)b),
        ColumnType.Long or ColumnType.TimestampTz => ((long)a).CompareTo((long)b),
        ColumnType.Double => TotalOrder((double)a).CompareTo(TotalOrder((double)b)),
        ColumnType.String => CompareUtf8((string)a, (string)b),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    internal static long TotalOrder(double d)
    {
        var bits = BitConverter.DoubleToInt64Bits(d);
        return bits < 0 ? bits ^ long.MaxValue : bits;
    }

    private static int CompareUtf8(string a, string b)
    {
        // UTF-16 ordinal order differs from code point order for surrogate pairs; compare code points instead.
        int i = 0, j = 0;
        while (i < a.Length && j < b.Length)
        {
            var ca = NextCodePoint(a, ref i);
            var cb = NextCodePoint(b, ref j);
            if (ca != cb) return ca < cb ? -1 : 1;
        }
        return (a.Length - i).CompareTo(b.Length - j);
    }

    private static int NextCodePoint(string s, ref int index)
    {
        var c = s[index];
        if (char.IsHighSurrogate(c) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            var cp = char.ConvertToUtf32(c, s[index + 1]);
            index += 2;
            return cp;
        }
        index++;
        return c;
    }

    /// <summary>Iceberg's binary single-value serialization (spec Appendix D), used for bounds and partition summaries.</summary>
    public static byte[] IcebergBinary(ColumnType type, object canonical)
    {
        switch (type)
        {
            case ColumnType.Boolean:
                return [(bool)canonical ? (byte)1 : (byte)0];
            case ColumnType.Int:
            {
                var b = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(b, (int)canonical);
                return b;
            }
            case ColumnType.Long:
            case ColumnType.TimestampTz:
            {
                var b = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(b, (long)canonical);
                return b;
            }
            case ColumnType.Double:
            {
                var b = new byte[8];
                BinaryPrimitives.WriteDoubleLittleEndian(b, (double)canonical);
                return b;
            }
            case ColumnType.String:
                return Encoding.UTF8.GetBytes((string)canonical);
            default:
                throw new ArgumentOutOfRangeException(nameof(type));
        }
    }

    public static object FromIcebergBinary(ColumnType type, ReadOnlySpan<byte> bytes) => type switch
    {
        ColumnType.Boolean => bytes[0] != 0,
        ColumnType.Int => BinaryPrimitives.ReadInt32LittleEndian(bytes),
        ColumnType.Long or ColumnType.TimestampTz => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        ColumnType.Double => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
        ColumnType.String => Encoding.UTF8.GetString(bytes),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static ArgumentException Mismatch(ColumnType type, object value) =>
        new(string.Create(CultureInfo.InvariantCulture, $"A {value.GetType().Name} value cannot be stored in a {type} column."));
}
