using Attribution.Api.Tracking;

namespace Attribution.Tests.Fixtures;

/// <summary>The ingest key every test service is configured with, and a client that signs with it as a partner would.</summary>
public static class TestIngestKey
{
    public const string KeyId = "tests";
    public const string Secret = "tests-ingest-secret";

    /// <summary>The setting, as configuration (Ingest:Keys:tests) and as an environment variable.</summary>
    public const string Setting = $"Ingest:Keys:{KeyId}";
    public const string EnvironmentVariable = $"Ingest__Keys__{KeyId}";

    /// <summary>What a browser sends: /pixel and /click record it, and a hit without one is a bot's (BOT_USER_AGENT).</summary>
    public const string BrowserUserAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

    public static IngestSigningHandler Handler() => new(KeyId, Secret);

    /// <summary>A client of a service on a socket that signs what it posts and, like a browser, names itself.</summary>
    public static HttpClient Client(Uri address, TimeSpan timeout) =>
        Browser(new(new IngestSigningHandler(KeyId, Secret, new HttpClientHandler { AllowAutoRedirect = false })) { BaseAddress = address, Timeout = timeout });

    public static HttpClient Browser(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.DefaultRequestHeaders.TryAddWithoutValidation("User-Agent", BrowserUserAgent);
        return client;
    }
}
