using System.Globalization;
using System.Text.Json;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace Attribution.Projections.Ingest;

/// <summary>The spool holds more than Ingest:SpoolMaxBytes, or the disk refused a write: nothing was acknowledged.</summary>
public sealed class SpoolUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The durable on-disk log in front of the Kafka producer (a FasterLog): a tracking endpoint appends its events and
/// answers only once they are on disk. Appends are group-committed: one commit loop flushes for every request
/// waiting, so a flush per request does not cap throughput. Entries stay until the forwarder truncates them.
/// </summary>
public sealed class EventSpool : IAsyncDisposable
{
    /// <summary>FasterLog does not store its segment size, and reopening a log with another one silently reads
    /// nothing: the geometry is fixed here and written beside the log, and a log with another is refused.</summary>
    private const int SegmentSizeBits = 24;
    private const int PageSizeBits = 22;
    private const int MemorySizeBits = 24;
    private const int FastCommitMetadataEvery = 1000;

    /// <summary>The largest entry: half a page, so that FasterLog always has room for it.</summary>
    public const int MaxEntryBytes = 1 << (PageSizeBits - 1);

    private readonly FileStream _lock;
    private readonly FasterLog _log;
    private readonly IDevice _device;
    private readonly DeviceLogCommitCheckpointManager _commits;
    private readonly long _maxBytes;
    private readonly int _maxPendingAppends;
    private int _pendingAppends;
    private readonly SemaphoreSlim _commitRequested = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _committer;
    private readonly ILogger _logger;

    private EventSpool(string path, long maxBytes, int maxPendingAppends, ILogger logger)
    {
        Path = path;
        _maxBytes = maxBytes;
        _maxPendingAppends = maxPendingAppends;
        _logger = logger;
        Directory.CreateDirectory(path);
        try
        {
            // Two writers on one FasterLog would corrupt it: the folder belongs to one service instance at a time.
            _lock = new FileStream(System.IO.Path.Combine(path, "spool.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"The spool at {path} is in use by another service instance (Ingest:SpoolPath must differ per instance).", e);
        }

        CheckGeometry(path);
        _device = new SpoolDevice(System.IO.Path.Combine(path, "spool.log"));
        // Fast commits: each commit writes a commit record into the log itself, flushed with the entries it covers,
        // so a commit costs one durable write. Without them every commit also created a metadata file, wrote it
        // synchronously and deleted the one before (three file-system operations per commit, measured with strace),
        // which doubled the latency every tracking request waits for. The metadata file is still written every
        // FastCommitMetadataEvery commits and whenever a truncation moves the log's start; recovery reads the
        // latest one and scans forward through the commit records after it.
        _commits = new DeviceLogCommitCheckpointManager(new LocalStorageNamedDeviceFactory(),
            new DefaultCheckpointNamingScheme(System.IO.Path.Combine(path, "commits")), removeOutdated: true, fastCommitThrottleFreq: FastCommitMetadataEvery);
        _log = new FasterLog(new FasterLogSettings
        {
            LogDevice = _device,
            LogCommitManager = _commits,
            FastCommitMode = true,
            PageSizeBits = PageSizeBits,
            MemorySizeBits = MemorySizeBits,
            SegmentSizeBits = SegmentSizeBits,
            TryRecoverLatest = true,
        });
        _committer = CommitLoopAsync();
    }

    public string Path { get; }

    /// <summary>Where the oldest entry still held starts.</summary>
    public long BeginAddress => _log.BeginAddress;

    /// <summary>Where the next entry goes.</summary>
    public long TailAddress => _log.TailAddress;

    /// <summary>Everything below this is on disk.</summary>
    public long CommittedUntilAddress => _log.CommittedUntilAddress;

    /// <summary>Bytes held: appended and not yet truncated.</summary>
    public long SizeBytes => Math.Max(0, _log.TailAddress - _log.BeginAddress);

    public static EventSpool Open(string path, long maxBytes, ILogger logger, int maxPendingAppends = int.MaxValue) => new(path, maxBytes, maxPendingAppends, logger);

    /// <summary>Appends waiting for their commit now.</summary>
    public int PendingAppends => Volatile.Read(ref _pendingAppends);

    /// <summary>Appends the records and returns once they are on disk, with the address just past them. Records are
    /// split into entries of at most <see cref="MaxEntryBytes"/>; a record larger than that is refused.</summary>
    public async ValueTask<long> AppendAsync(IReadOnlyList<SpooledRecord> records, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0) return _log.CommittedUntilAddress;
        // Saturated: more requests wait for the disk than it serves in a moment. Refusing the next (503, Retry-After)
        // keeps the wait of those already in line short, instead of every request queueing until clients time out.
        if (Interlocked.Increment(ref _pendingAppends) > _maxPendingAppends)
        {
            Interlocked.Decrement(ref _pendingAppends);
            throw new SpoolUnavailableException(string.Create(CultureInfo.InvariantCulture,
                $"The ingest path is saturated: {_maxPendingAppends:N0} requests are waiting for the disk (Ingest:MaxPendingAppends); try again shortly."));
        }

        try
        {
            if (FailedBecause is { } failure)
                throw new SpoolUnavailableException($"The ingest spool could not write to disk ({failure}); it takes events again once the service has restarted.");
            var now = DateTimeOffset.UtcNow;
            var (entries, bytes) = Entries(records, now);
            if (SizeBytes + bytes > _maxBytes)
                throw new SpoolUnavailableException(string.Create(CultureInfo.InvariantCulture,
                    $"The ingest spool holds {SizeBytes:N0} bytes; {bytes:N0} more would pass Ingest:SpoolMaxBytes ({_maxBytes:N0}) while Kafka is not taking them."));
            long last = 0;
            try
            {
                foreach (var entry in entries)
                {
                    // The usual case takes no async machinery; only a log whose memory is full waits for room.
                    if (!_log.TryEnqueue(entry, out last)) last = await _log.EnqueueAsync(entry, ct);
                }

                _commitRequested.Release();
                // Not cancelled with the request: a commit takes milliseconds, and a cancellable wait costs every request
                // a registration and a task of its own (FasterLog's WithCancellationAsync) where an uncancellable one
                // shares the commit's task.
                await _log.WaitForCommitAsync(last + 1, token: CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or CommitFailureException)
            {
                Failed(e);
                throw new SpoolUnavailableException($"The ingest spool could not write to disk: {e.Message}", e);
            }

            return _log.CommittedUntilAddress;
        }
        finally
        {
            // One method with the count: a second async method per append would box a state machine of its own.
            Interlocked.Decrement(ref _pendingAppends);
        }
    }

    /// <summary>Why the spool cannot write any more (a commit failed: a full disk, an I/O error), or null. FasterLog
    /// refuses every later commit once one failed, even when the disk has room again, and a log reopened from disk
    /// recovers to the last commit that succeeded: so a failed spool answers 503 until the service restarts, and the
    /// liveness check turns unhealthy to have it restarted.</summary>
    public string? FailedBecause { get; private set; }

    private void Failed(Exception e)
    {
        if (FailedBecause is not null) return;
        FailedBecause = e.Message;
        _logger.LogError(e, "The ingest spool could not commit to disk; it refuses every append until the service restarts (liveness now fails)");
    }

    /// <summary>Reads entries from <paramref name="from"/> on; entries not committed yet are waited for.</summary>
    public FasterLogScanIterator Read(long from) => _log.Scan(Math.Max(from, _log.BeginAddress), long.MaxValue, scanUncommitted: false);

    /// <summary>Drops every entry below the address (whole segments leave the disk) and makes that durable.</summary>
    public async ValueTask TruncateUntilAsync(long address, CancellationToken ct)
    {
        if (address <= _log.BeginAddress) return;
        _log.TruncateUntil(Math.Min(address, _log.CommittedUntilAddress));
        await _log.CommitAsync(ct);
    }

    /// <summary>Moves the log's start past records that are not entries (the commit records fast commits write), without
    /// a commit of its own: the next commit persists it, and until then a restart reads past them.</summary>
    public void DropCommitRecordsUntil(long address) => _log.TruncateUntil(Math.Min(address, _log.CommittedUntilAddress));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _committer;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _log.Dispose();
        _commits.Dispose();
        _device.Dispose();
        await _lock.DisposeAsync();
        _stop.Dispose();
        _commitRequested.Dispose();
    }

    /// <summary>The records as spool entries of at most <see cref="MaxEntryBytes"/> each, and their total size.</summary>
    private static (List<byte[]> Entries, long Bytes) Entries(IReadOnlyList<SpooledRecord> records, DateTimeOffset now)
    {
        var entries = new List<byte[]>(1);
        var bytes = 0L;
        var start = 0;
        var size = 16;
        for (var i = 0; i < records.Count; i++)
        {
            var recordBytes = SpoolEntryFormat.RecordBytes(records[i]);
            if (recordBytes + 16 > MaxEntryBytes)
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"An event of {recordBytes:N0} bytes is larger than the spool takes ({MaxEntryBytes:N0})."), nameof(records));
            if (size + recordBytes > MaxEntryBytes && i > start)
            {
                Add(start, i);
                start = i;
                size = 16;
            }

            size += recordBytes;
        }

        Add(start, records.Count);
        return (entries, bytes);

        void Add(int from, int to)
        {
            // A whole request in one entry is the usual case, and takes no copy of the list.
            var entry = SpoolEntryFormat.Encode(now, from == 0 && to == records.Count ? records : records.Skip(from).Take(to - from).ToList());
            entries.Add(entry);
            bytes += entry.Length;
        }
    }

    /// <summary>One commit at a time, as soon as someone waits: every append that arrived meanwhile rides along. (Two
    /// commits in flight at once were measured against one on 2026-12-04 and gained nothing here.)</summary>
    private async Task CommitLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            await _commitRequested.WaitAsync(_stop.Token);
            while (_commitRequested.CurrentCount > 0) await _commitRequested.WaitAsync(_stop.Token);
            try
            {
                await _log.CommitAsync(_stop.Token);
            }
            catch (Exception e) when (e is IOException or CommitFailureException)
            {
                // The waiting appends see the failure themselves.
                Failed(e);
            }
        }
    }

    private static void CheckGeometry(string path)
    {
        var file = System.IO.Path.Combine(path, "spool.json");
        var expected = new Geometry(SegmentSizeBits, PageSizeBits);
        if (File.Exists(file))
        {
            var stored = JsonSerializer.Deserialize<Geometry>(File.ReadAllText(file));
            if (stored != expected)
                throw new InvalidOperationException($"The spool at {path} was written with {stored}; this build reads {expected}. Drain it with the build that wrote it first.");
            return;
        }

        if (Directory.EnumerateFiles(path, "spool.log*").Any())
            throw new InvalidOperationException($"The spool at {path} has a log but no spool.json saying how it was written; refusing to guess.");
        File.WriteAllText(file, JsonSerializer.Serialize(expected));
    }

    private sealed record Geometry(int SegmentSizeBits, int PageSizeBits);
}
