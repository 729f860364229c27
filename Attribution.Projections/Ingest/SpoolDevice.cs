using System.Collections.Concurrent;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace Attribution.Projections.Ingest;

/// <summary>
/// The spool's FasterLog device: segment files written synchronously (FileOptions.WriteThrough, O_SYNC on Linux: a
/// write returns once it is on disk; the same files and names as FASTER's own ManagedLocalStorageDevice) from one
/// writer thread of its own. FASTER's managed device runs every write as Task.Run → FileStream.WriteAsync (a blocking pwrite on another
/// pool thread on Linux) → FlushAsync → callback: several thread-pool hand-offs per commit, and pool threads blocked in
/// the kernel, which at ~1,000 commits a second cost /pixel about a fifth of its throughput (docs/BENCHMARKS.md).
/// Here a commit's write is one queue hand-off to a thread that does nothing else. Reads (the forwarder, recovery) are
/// rare and run on the thread pool.
/// </summary>
public sealed class SpoolDevice : StorageDeviceBase
{
    private const uint WriteFailed = uint.MaxValue;

    private readonly ConcurrentDictionary<int, SafeFileHandle> _segments = new();
    private readonly BlockingCollection<Write> _writes = new(new ConcurrentQueue<Write>());
    private readonly Thread _writer;
    private readonly Lock _open = new();

    public SpoolDevice(string filename) : base(filename, sectorSize: 512, Devices.CAPACITY_UNSPECIFIED)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(filename)!);
        RecoverSegments();
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "spool-writer" };
        _writer.Start();
    }

    public override bool Throttle() => false;

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        HandleCapacity(segmentId);
        if (!_writes.TryAdd(new Write(sourceAddress, segmentId, (long)destinationAddress, numBytesToWrite, callback, context)))
            callback(WriteFailed, 0, context);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
    {
        ThreadPool.UnsafeQueueUserWorkItem(_ =>
        {
            uint read;
            try
            {
                read = (uint)RandomAccess.Read(Segment(segmentId), Span(destinationAddress, readLength), (long)sourceAddress);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                callback(ErrorCode(e), 0, context);
                return;
            }

            callback(0, read, context);
        }, null);
    }

    public override void RemoveSegment(int segment)
    {
        lock (_open)
        {
            if (_segments.TryRemove(segment, out var handle)) handle.Dispose();
        }

        File.Delete(GetSegmentFilename(FileName, segment));
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    public override long GetFileSize(int segment) => segmentSize > 0 ? segmentSize : RandomAccess.GetLength(Segment(segment));

    public override void Dispose()
    {
        _writes.CompleteAdding();
        _writer.Join();
        _writes.Dispose();
        foreach (var handle in _segments.Values) handle.Dispose();
        _segments.Clear();
    }

    private void WriteLoop()
    {
        var batch = new List<Write>();
        Write? held = null;
        while (held is not null || _writes.TryTake(out held, Timeout.Infinite))
        {
            batch.Clear();
            batch.Add(held);
            var (start, end) = (held.Offset, held.Offset + held.Length);
            held = null;
            // FasterLog often asks for a write that starts inside the sector the one before it ended in, from the same
            // page in memory: one write of the union serves both (the memory holds every byte of it by then).
            while (_writes.TryTake(out var next))
            {
                var first = batch[0];
                if (next.SegmentId != first.SegmentId || next.Source - (nint)next.Offset != first.Source - (nint)first.Offset
                    || next.Offset < start || next.Offset > end)
                {
                    held = next;
                    break;
                }

                batch.Add(next);
                end = Math.Max(end, next.Offset + next.Length);
            }

            var error = 0u;
            try
            {
                RandomAccess.Write(Segment(batch[0].SegmentId), Span(batch[0].Source + (nint)(start - batch[0].Offset), (uint)(end - start)), start);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                error = ErrorCode(e);
            }

            foreach (var w in batch) w.Callback(error, error == 0 ? w.Length : 0, w.Context);
        }
    }

    private SafeFileHandle Segment(int segmentId)
    {
        if (_segments.TryGetValue(segmentId, out var handle)) return handle;
        lock (_open)
        {
            return _segments.GetOrAdd(segmentId, id => File.OpenHandle(GetSegmentFilename(FileName, id), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.ReadWrite, FileOptions.WriteThrough));
        }
    }

    /// <summary>Which segments exist, as FASTER's own devices find them: the first of the last unbroken run is the start.</summary>
    private void RecoverSegments()
    {
        var file = new FileInfo(FileName);
        if (file.Directory is not { Exists: true } folder) return;
        var ids = folder.GetFiles(file.Name + ".*")
            .Select(f => int.TryParse(f.Name.AsSpan(file.Name.Length + 1), out var id) ? id : -1)
            .Where(id => id >= 0)
            .Order()
            .ToList();
        var previous = -1;
        foreach (var id in ids)
        {
            if (id != previous + 1) startSegment = id;
            else endSegment = id;
            previous = id;
        }
    }

    private static unsafe Span<byte> Span(IntPtr address, uint length) => new((void*)address, checked((int)length));

    private static uint ErrorCode(Exception e) => (uint)(e.HResult & 0xFFFF) is var code and not 0 ? code : WriteFailed;

    private sealed record Write(IntPtr Source, int SegmentId, long Offset, uint Length, DeviceIOCompletionCallback Callback, object Context);
}
