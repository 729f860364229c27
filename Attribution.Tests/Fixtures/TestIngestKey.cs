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

    public static IngestSigningHandler Handler() => new(KeyId, Secret);

    /// <summary>A client of a service on a socket that signs what it posts.</summary>
    public static HttpClient Client(Uri address, TimeSpan timeout) =>
        new(new IngestSigningHandler(KeyId, Secret, new HttpClientHandler { AllowAutoRedirect = false })) { BaseAddress = address, Timeout = timeout };
}
