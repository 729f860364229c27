using System.Runtime.InteropServices;
using ParquetSharp;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// A batch of one column's values on their way to ParquetSharp's physical column writer: definition levels (1 for a
/// value, 0 for a null; none for a required column) and the non-null values, unboxed.
/// </summary>
internal abstract class ColumnBuffer(SchemaField field, int capacity)
{
    protected readonly short[] Levels = new short[capacity];

    public SchemaField Field { get; } = field;

    /// <summary>Rows in the batch, nulls included.</summary>
    public int Count { get; protected set; }

    /// <summary>NaN values written so far (Iceberg's nan_value_counts; Parquet statistics leave NaN out).</summary>
    public long NaNs { get; protected set; }

    protected int Values { get; set; }

    protected ReadOnlySpan<short> LevelSpan => Field.Required ? default : Levels.AsSpan(0, Count);

    public static ColumnBuffer For(SchemaField field, int capacity) => field.Type switch
    {
        ColumnType.Boolean => new ValueBuffer<bool>(field, capacity),
        ColumnType.Int => new ValueBuffer<int>(field, capacity),
        ColumnType.Long or ColumnType.TimestampTz => new ValueBuffer<long>(field, capacity),
        ColumnType.Double => new ValueBuffer<double>(field, capacity),
        ColumnType.String => new StringBuffer(field, capacity),
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>A value in canonical form (<see cref="ColumnValues.Canonical"/>), or null.</summary>
    public void Append(object? canonical)
    {
        if (canonical is null)
        {
            if (Field.Required) throw new ArgumentException($"Null in required column '{Field.Name}'.");
            Levels[Count++] = 0;
            return;
        }
        AppendValue(canonical);
        if (!Field.Required) Levels[Count] = 1;
        Count++;
        Values++;
    }

    protected abstract void AppendValue(object canonical);

    /// <summary>Writes the batch to the open row group's column and empties it.</summary>
    public abstract void Flush(ColumnWriter writer);

    /// <summary>Counts NaNs among values copied from another file, which bypass <see cref="Append"/>.</summary>
    public void CountNaNs(ReadOnlySpan<double> values)
    {
        foreach (var v in values)
            if (double.IsNaN(v)) NaNs++;
    }

    private sealed class ValueBuffer<T>(SchemaField field, int capacity) : ColumnBuffer(field, capacity) where T : unmanaged
    {
        private readonly T[] _values = new T[capacity];

        protected override void AppendValue(object canonical)
        {
            if (canonical is double d && double.IsNaN(d)) NaNs++;
            _values[Values] = (T)canonical;
        }

        public override void Flush(ColumnWriter writer)
        {
            ((ColumnWriter<T>)writer).WriteBatch(Count, LevelSpan, default, _values.AsSpan(0, Values));
            Count = Values = 0;
        }
    }

    /// <summary>Strings as UTF-8 in one buffer, handed to the native writer as pointers while it is pinned.</summary>
    private sealed class StringBuffer(SchemaField field, int capacity) : ColumnBuffer(field, capacity)
    {
        private readonly int[] _lengths = new int[capacity];
        private readonly ByteArray[] _arrays = new ByteArray[capacity];
        private byte[] _bytes = new byte[capacity * 16];
        private int _used;

        protected override void AppendValue(object canonical)
        {
            var s = (string)canonical;
            var max = System.Text.Encoding.UTF8.GetMaxByteCount(s.Length);
            if (_used + max > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + max));
            _lengths[Values] = System.Text.Encoding.UTF8.GetBytes(s, _bytes.AsSpan(_used));
            _used += _lengths[Values];
        }

        public override unsafe void Flush(ColumnWriter writer)
        {
            fixed (byte* start = _bytes)
            {
                var offset = 0;
                for (var i = 0; i < Values; i++)
                {
                    _arrays[i] = new ByteArray((IntPtr)(start + offset), _lengths[i]);
                    offset += _lengths[i];
                }
                // The native writer copies the bytes into its pages (or dictionary) before returning.
                ((ColumnWriter<ByteArray>)writer).WriteBatch(Count, LevelSpan, default, _arrays.AsSpan(0, Values));
            }
            Count = Values = 0;
            _used = 0;
        }
    }
}

/// <summary>The physical Parquet type each column type is stored as, and the native memory Arrow works in.</summary>
internal static class PhysicalTypes
{
    /// <summary>
    /// glibc's malloc rather than Arrow's bundled allocator: the service hands the C heap's free pages back after every
    /// job run (malloc_trim), which reaches only glibc's arenas; with Arrow's own pool the exports' freed row-group
    /// buffers stayed resident (docs/BENCHMARKS.md, *Lakehouse on ParquetSharp and Apache.Avro*).
    /// </summary>
    public static MemoryPool Pool { get; } = MemoryPool.SystemMemoryPool();

    public static PhysicalType Of(ColumnType type) => type switch
    {
        ColumnType.Boolean => PhysicalType.Boolean,
        ColumnType.Int => PhysicalType.Int32,
        ColumnType.Long or ColumnType.TimestampTz => PhysicalType.Int64,
        ColumnType.Double => PhysicalType.Double,
        ColumnType.String => PhysicalType.ByteArray,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static string Utf8(ByteArray value) =>
        value.Length == 0 ? "" : Marshal.PtrToStringUTF8(value.Pointer, value.Length);
}
