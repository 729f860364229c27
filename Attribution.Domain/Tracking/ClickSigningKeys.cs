using System.Security.Cryptography;
using System.Text;

namespace Attribution.Domain.Tracking;

/// <summary>
/// The keys of Tracking:ClickSigningKeys: the first signs, every one verifies, so a new key can be put first while
/// links signed with the old one (now second) keep working until it is removed.
/// </summary>
public sealed class ClickSigningKeys
{
    /// <summary>A key shorter than this is refused: HMAC is only as strong as its key (32 random bytes is better).</summary>
    public const int MinKeyLength = 16;

    /// <summary>The length of a signature: lowercase hex of 32 bytes.</summary>
    public const int SignatureLength = 64;

    private readonly byte[][] _keys;

    /// <param name="keys">The keys, the signing one first; each one's UTF-8 bytes are the HMAC key.</param>
    public ClickSigningKeys(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            // Never the key itself in the message: it would end up in a log.
            if (list[i] is null || list[i].Length < MinKeyLength)
                throw new ArgumentException($"Click signing key {i} is shorter than {MinKeyLength} characters.", nameof(keys));
        }

        _keys = list.Select(Encoding.UTF8.GetBytes).ToArray();
    }

    public static ClickSigningKeys None { get; } = new([]);

    public bool CanSign => _keys.Length > 0;

    public int Count => _keys.Length;

    /// <summary>The signature of a click URL with the first key; throws when no key is configured (check <see cref="CanSign"/>).</summary>
    public string Sign(string impressionId, string redirect)
    {
        if (!CanSign) throw new InvalidOperationException("No click signing key is configured (Tracking:ClickSigningKeys).");
        return Convert.ToHexStringLower(Mac(_keys[0], impressionId, redirect));
    }

    /// <summary>
    /// Issue 19 "signed clicks": sig is the lowercase hex of HMAC-SHA256(key, UTF-8 of impression_id + "\n" +
    /// redirect) for one of the keys, compared in constant time; anything else (no sig, uppercase, wrong length) fails.
    /// </summary>
    public bool Verify(string? impressionId, string? redirect, string? sig)
    {
        if (impressionId is null || redirect is null || sig is null || sig.Length != SignatureLength) return false;
        Span<byte> sent = stackalloc byte[SignatureLength / 2];
        for (var i = 0; i < sent.Length; i++)
        {
            var high = LowerHex(sig[2 * i]);
            var low = LowerHex(sig[(2 * i) + 1]);
            if (high < 0 || low < 0) return false;
            sent[i] = (byte)((high << 4) | low);
        }

        // Every key is tried, whichever matches: the time taken says nothing about which one did.
        var match = false;
        foreach (var key in _keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(Mac(key, impressionId, redirect), sent);
        }

        return match;
    }

    /// <summary>The signature of a click URL under one given key: what an ad server that holds the key computes.</summary>
    public static string Compute(string key, string impressionId, string redirect)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(Mac(Encoding.UTF8.GetBytes(key), impressionId, redirect));
    }

    private static byte[] Mac(byte[] key, string impressionId, string redirect)
    {
        ArgumentNullException.ThrowIfNull(impressionId);
        ArgumentNullException.ThrowIfNull(redirect);
        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(impressionId + "\n" + redirect));
    }

    private static int LowerHex(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
