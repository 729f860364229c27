using System.Security.Cryptography;
using System.Text;
using Attribution.Api.Tracking;
using Attribution.Domain.Security;

namespace Attribution.Api.Cli;

/// <summary>The ingest key of a benchmark run: every service the run starts is configured with it, and its clients
/// sign with it, so the run measures the signature check a partner's postbacks pay for.</summary>
internal static class BenchIngestKey
{
    public const string KeyId = "bench";

    /// <summary>New for every run: it never leaves the machine.</summary>
    public static readonly string Secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    public const string Setting = $"Ingest:Keys:{KeyId}";

    public static HttpClient Client(Uri address, SocketsHttpHandler handler, TimeSpan? timeout = null) =>
        new(new IngestSigningHandler(KeyId, Secret, handler)) { BaseAddress = address, Timeout = timeout ?? TimeSpan.FromSeconds(100) };

    /// <summary>The signature header for a body sent unchanged for a while (wrk's): valid for five minutes.</summary>
    public static string SignatureFor(string body) => IngestSignature.Header(Secret, DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes(body));
}
