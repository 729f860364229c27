using System.Security.Cryptography;
using System.Text;

namespace Attribution.Projections.EventStore;

/// <summary>
/// Marten's event id is a uuid; ours is any text a sender chose (the API stamps UUIDv7s, a batch may carry
/// "evt-42" or a content hash). An id in the canonical lowercase uuid form is used as it is; any other text maps
/// to a name-based uuid (RFC 9562 version 5, SHA-1, in our own namespace), so every business id has exactly one
/// Marten id and the unique index on mt_events.id is the dedup index of every event_id ever stored.
/// </summary>
public static class EventIds
{
    private static readonly byte[] Namespace = Guid.Parse("6f1c2d3e-8a4b-4c5d-9e6f-a7b8c9d0e1f2").ToByteArray(bigEndian: true);

    public static Guid MartenId(string eventId)
    {
        ArgumentNullException.ThrowIfNull(eventId);
        // Only the exact text Guid.ToString() gives back is taken as it is: "ABC…" or "{…}" are other ids.
        if (eventId.Length == 36 && Guid.TryParseExact(eventId, "D", out var id) && id.ToString() == eventId) return id;
        var name = Encoding.UTF8.GetBytes(eventId);
        var input = new byte[Namespace.Length + name.Length];
        Namespace.CopyTo(input, 0);
        name.CopyTo(input, Namespace.Length);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input, hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
