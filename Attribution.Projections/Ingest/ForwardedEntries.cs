namespace Attribution.Projections.Ingest;

/// <summary>
/// The spool entries the forwarder has produced, in spool order, and what became of their records: which Kafka
/// acknowledged, at which partition and offset. From that it says how far the spool may be truncated: up to the
/// longest run of entries from the start that Kafka acknowledged in full (a durable broker), or that the consumer has
/// also applied (the embedded broker, which forgets everything when the process dies).
/// </summary>
public sealed class ForwardedEntries
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Entry> _entries = new();
    private readonly Dictionary<long, LinkedListNode<Entry>> _byEnd = [];
    private readonly Dictionary<int, long> _outstandingBytes = [];

    /// <summary>Entries produced and not yet released by <see cref="Release"/>.</summary>
    public int Count { get { lock (_gate) return _entries.Count; } }

    /// <summary>When the oldest entry still held was spooled: entries are produced in spool order, so it is the
    /// first one not yet released.</summary>
    public DateTimeOffset? OldestSpooledAt { get { lock (_gate) return _entries.First?.Value.SpooledAt; } }

    /// <summary>An entry ending at <paramref name="end"/>, spooled at <paramref name="spooledAt"/>, was handed to the
    /// producer, its records going to these partitions with these sizes.</summary>
    public void Produced(long end, DateTimeOffset spooledAt, IReadOnlyList<(int Partition, int Bytes)> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            var entry = new Entry(end, spooledAt, records.Count);
            foreach (var (partition, bytes) in records)
            {
                entry.Bytes[partition] = entry.Bytes.GetValueOrDefault(partition) + bytes;
                _outstandingBytes[partition] = _outstandingBytes.GetValueOrDefault(partition) + bytes;
            }

            _byEnd[end] = _entries.AddLast(entry);
        }
    }

    /// <summary>Kafka acknowledged one record of the entry ending at <paramref name="end"/>.</summary>
    public void Acknowledged(long end, int partition, long offset)
    {
        lock (_gate)
        {
            if (!_byEnd.TryGetValue(end, out var node)) return;
            var entry = node.Value;
            entry.Pending--;
            entry.LastOffset[partition] = Math.Max(entry.LastOffset.GetValueOrDefault(partition, -1), offset);
        }
    }

    /// <summary>Bytes produced to a partition that are not yet released: what the embedded broker holds for us.</summary>
    public long OutstandingBytes(int partition)
    {
        lock (_gate) return _outstandingBytes.GetValueOrDefault(partition);
    }

    /// <summary>
    /// Releases the longest run of entries from the start that Kafka acknowledged in full and, when
    /// <paramref name="appliedNextOffset"/> is given, whose every record lies below the consumer's next offset of its
    /// partition. Returns the address the spool may be truncated to, or null when nothing was released.
    /// </summary>
    public long? Release(Func<int, long?>? appliedNextOffset)
    {
        lock (_gate)
        {
            long? until = null;
            while (_entries.First is { } first && first.Value.Pending == 0
                   && (appliedNextOffset is null || first.Value.LastOffset.All(p => appliedNextOffset(p.Key) is { } next && next > p.Value)))
            {
                var entry = first.Value;
                foreach (var (partition, bytes) in entry.Bytes) _outstandingBytes[partition] -= bytes;
                _entries.RemoveFirst();
                _byEnd.Remove(entry.End);
                until = entry.End;
            }

            return until;
        }
    }

    private sealed class Entry(long end, DateTimeOffset spooledAt, int pending)
    {
        public long End { get; } = end;

        public DateTimeOffset SpooledAt { get; } = spooledAt;

        public int Pending { get; set; } = pending;

        public Dictionary<int, long> LastOffset { get; } = [];

        public Dictionary<int, int> Bytes { get; } = [];
    }
}
