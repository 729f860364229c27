using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Attribution.Domain.Security;

/// <summary>Why a signed ingest request was refused, or <see cref="Valid"/>.</summary>
public enum SignatureVerdict
{
    Valid,
    MissingKeyId,
    MissingSignature,
    Malformed,
    UnknownKey,
    Expired,
    FromTheFuture,
    Mismatch,
}

/// <summary>
/// Signed ingest (issue 19, part 2): a postback or batch carries <c>Attribution-Key-Id</c> and
/// <c>Attribution-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, "&lt;t&gt;." + body)&gt;</c>, the scheme
/// Stripe and Adjust use: the timestamp bounds replays, the body bytes are signed exactly as sent.
/// </summary>
public static class IngestSignature
{
    public const string KeyIdHeader = "Attribution-Key-Id";
    public const string SignatureHeader = "Attribution-Signature";

    /// <summary>How far <c>t</c> may be from the server clock, either way.</summary>
    public static readonly TimeSpan Tolerance = TimeSpan.FromSeconds(300);

    /// <summary>The header value for a body signed at <paramref name="at"/>.</summary>
    public static string Header(string secret, DateTimeOffset at, ReadOnlySpan<byte> body)
    {
        var t = at.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"t={t},v1={Convert.ToHexStringLower(Mac(secret, t, body))}");
    }

    /// <summary>Checks a request's key id and signature header against its body; <paramref name="secretOf"/> gives the
    /// secret of a key id, or null for a key that does not exist (or was revoked).</summary>
    public static SignatureVerdict Verify(string? keyId, string? header, ReadOnlySpan<byte> body, Func<string, string?> secretOf, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(secretOf);
        if (string.IsNullOrWhiteSpace(keyId)) return SignatureVerdict.MissingKeyId;
        if (string.IsNullOrWhiteSpace(header)) return SignatureVerdict.MissingSignature;
        if (!TryParse(header, out var t, out var macs)) return SignatureVerdict.Malformed;
        if (secretOf(keyId) is not { } secret) return SignatureVerdict.UnknownKey;
        var age = now - DateTimeOffset.FromUnixTimeSeconds(t);
        if (age > Tolerance) return SignatureVerdict.Expired;
        if (age < -Tolerance) return SignatureVerdict.FromTheFuture;
        var expected = Mac(secret, t, body);
        // Every v1 is compared, and each comparison takes the same time whatever matches: during a rotation the
        // sender signs with both secrets, and nothing about the secret leaks through timing.
        var matched = false;
        foreach (var mac in macs) matched |= CryptographicOperations.FixedTimeEquals(mac, expected);
        return matched ? SignatureVerdict.Valid : SignatureVerdict.Mismatch;
    }

    /// <summary>What a refusal tells the client: which check failed, never which part of a secret matched.</summary>
    public static string Describe(SignatureVerdict verdict) => verdict switch
    {
        SignatureVerdict.MissingKeyId => $"The {KeyIdHeader} header is missing: name the ingest key that signed the body.",
        SignatureVerdict.MissingSignature => $"The {SignatureHeader} header is missing: send t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.\" + body)>.",
        SignatureVerdict.Malformed => $"The {SignatureHeader} header is malformed: expected t=<unix seconds>,v1=<64 lowercase hex digits> (more v1= values allowed).",
        SignatureVerdict.UnknownKey => $"The {KeyIdHeader} names no active ingest key (unknown or revoked).",
        SignatureVerdict.Expired => $"The signature's t is more than {Tolerance.TotalSeconds:0} seconds in the past: sign each request when it is sent.",
        SignatureVerdict.FromTheFuture => $"The signature's t is more than {Tolerance.TotalSeconds:0} seconds in the future: check the sender's clock.",
        SignatureVerdict.Mismatch => "The signature does not match the body: sign the exact bytes sent, with the key's secret.",
        _ => "The signature is valid.",
    };

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private static byte[] Mac(string secret, long t, ReadOnlySpan<byte> body)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        hmac.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{t}.")));
        hmac.AppendData(body);
        return hmac.GetHashAndReset();
    }

    private static bool TryParse(string header, out long t, out List<byte[]> macs)
    {
        t = 0;
        macs = [];
        var sawT = false;
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) return false;
            var (name, value) = (part[..eq], part[(eq + 1)..]);
            switch (name)
            {
                case "t" when !sawT && value.Length is > 0 and <= 12 && value.All(char.IsAsciiDigit)
                               && long.Parse(value, CultureInfo.InvariantCulture) <= MaxUnixSeconds:
                    t = long.Parse(value, CultureInfo.InvariantCulture);
                    sawT = true;
                    break;
                case "v1" when value.Length == 64 && value.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f'):
                    macs.Add(Convert.FromHexString(value));
                    break;
                case "t" or "v1":
                    return false;
                default:
                    // Other schemes (v0, v2) are ignored, so a sender can add one before we verify it.
                    break;
            }
        }

        return sawT && macs.Count > 0;
    }
}
