using System.Buffers;

namespace Attribution.Projections.Lakehouse.Parquet;

/// <summary>
/// A growable buffer on arrays rented from the shared pool. A column writer's page and chunk buffers reach a
/// megabyte or more: as plain arrays, every file of every export left a few of them per column on the large object
/// heap, which only a full collection frees, so the service's memory swung by tens of MiB with each export. Rented,
/// the next file reuses them.
/// </summary>
internal sealed class PooledBuffer<T> : IBufferWriter<T>, IDisposable
    where T : unmanaged
{
    private T[] _array;
    private int _count;
    private bool _disposed;

    public PooledBuffer(int initialCapacity) => _array = ArrayPool<T>.Shared.Rent(initialCapacity);

    public int WrittenCount => _count;

    public ReadOnlySpan<T> WrittenSpan => _array.AsSpan(0, _count);

    public void Add(T value)
    {
        if (_count == _array.Length) Grow(1);
        _array[_count++] = value;
    }

    public void ResetWrittenCount() => _count = 0;

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_count + count > _array.Length) throw new InvalidOperationException("Advanced past the buffer's end.");
        _count += count;
    }

    public Memory<T> GetMemory(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _array.AsMemory(_count);
    }

    public Span<T> GetSpan(int sizeHint = 0)
    {
        Grow(sizeHint);
        return _array.AsSpan(_count);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        ArrayPool<T>.Shared.Return(_array);
        _array = [];
        _count = 0;
    }

    private void Grow(int sizeHint)
    {
        var needed = _count + Math.Max(sizeHint, 1);
        if (needed <= _array.Length) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        var bigger = ArrayPool<T>.Shared.Rent(Math.Max(needed, checked(_array.Length * 2)));
        WrittenSpan.CopyTo(bigger);
        ArrayPool<T>.Shared.Return(_array);
        _array = bigger;
    }
}

/// <summary>A write-only stream into a <see cref="PooledBuffer{T}"/> of bytes, for encoders that write to streams.</summary>
internal sealed class PooledBufferStream(PooledBuffer<byte> buffer) : Stream
{
    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => buffer.WrittenCount;

    public override long Position
    {
        get => buffer.WrittenCount;
        set => throw new NotSupportedException();
    }

    public override void Write(ReadOnlySpan<byte> source)
    {
        source.CopyTo(buffer.GetSpan(source.Length));
        buffer.Advance(source.Length);
    }

    public override void Write(byte[] array, int offset, int count) => Write(array.AsSpan(offset, count));

    public override void WriteByte(byte value) => buffer.Add(value);

    public override void Flush()
    {
    }

    public override int Read(byte[] array, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
