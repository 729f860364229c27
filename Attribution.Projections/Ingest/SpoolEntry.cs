using System.Buffers.Binary;
using System.Text;

namespace Attribution.Projections.Ingest;

/// <summary>One Kafka message as the spool keeps it: the partition key (the impression id) and the event's bytes.</summary>
public sealed record SpooledRecord(string? Key, byte[] Value);

/// <summary>The records of one spool entry and when they were spooled.</summary>
public sealed record SpoolEntry(DateTimeOffset SpooledAt, IReadOnlyList<SpooledRecord> Records);

/// <summary>
/// The bytes of a spool entry: a version byte, the spool time (Unix ms), the record count, then per record the key
/// (length, -1 for none, UTF-8) and the value (length, bytes); little-endian throughout.
/// </summary>
public static class SpoolEntryFormat
{
    private const byte Version = 1;
    private const int HeaderBytes = 1 + 8 + 4;

    public static int RecordBytes(SpooledRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return 8 + (record.Key is null ? 0 : Encoding.UTF8.GetByteCount(record.Key)) + record.Value.Length;
    }

    public static byte[] Encode(DateTimeOffset spooledAt, IReadOnlyList<SpooledRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var size = HeaderBytes;
        foreach (var r in records) size += RecordBytes(r);
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        span[0] = Version;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], spooledAt.ToUnixTimeMilliseconds());
        BinaryPrimitives.WriteInt32LittleEndian(span[9..], records.Count);
        var at = HeaderBytes;
        foreach (var r in records)
        {
            if (r.Key is null)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[at..], -1);
                at += 4;
            }
            else
            {
                var written = Encoding.UTF8.GetBytes(r.Key, span[(at + 4)..]);
                BinaryPrimitives.WriteInt32LittleEndian(span[at..], written);
                at += 4 + written;
            }

            BinaryPrimitives.WriteInt32LittleEndian(span[at..], r.Value.Length);
            r.Value.CopyTo(span[(at + 4)..]);
            at += 4 + r.Value.Length;
        }

        return bytes;
    }

    public static SpoolEntry Decode(ReadOnlySpan<byte> entry)
    {
        if (entry.Length < HeaderBytes || entry[0] != Version)
            throw new InvalidDataException($"Not a spool entry of version {Version} ({entry.Length} bytes).");
        var spooledAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(entry[1..]));
        var count = BinaryPrimitives.ReadInt32LittleEndian(entry[9..]);
        var records = new List<SpooledRecord>(count);
        var at = HeaderBytes;
        for (var i = 0; i < count; i++)
        {
            var keyLength = BinaryPrimitives.ReadInt32LittleEndian(entry[at..]);
            at += 4;
            string? key = null;
            if (keyLength >= 0)
            {
                key = Encoding.UTF8.GetString(entry.Slice(at, keyLength));
                at += keyLength;
            }

            var valueLength = BinaryPrimitives.ReadInt32LittleEndian(entry[at..]);
            at += 4;
            records.Add(new SpooledRecord(key, entry.Slice(at, valueLength).ToArray()));
            at += valueLength;
        }

        if (at != entry.Length) throw new InvalidDataException($"A spool entry of {entry.Length} bytes holds {at} bytes of records.");
        return new SpoolEntry(spooledAt, records);
    }
}
