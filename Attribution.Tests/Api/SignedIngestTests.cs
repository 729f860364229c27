using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Attribution.Domain.Security;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>Postbacks and batches are taken only when signed with an active ingest key; keys are made, listed and
/// revoked through the admin API, and a revocation holds on another instance of the same database too.</summary>
public sealed class SignedIngestTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _signed = api.Client();
    private readonly HttpClient _plain = api.CreateDefaultClient(new Uri("http://localhost"));

    private static string Impression(string id) =>
        $$"""{"event_type":"IMPRESSION","impression_id":"{{id}}","campaign_id":"c-sig","bid_price":1.5}""";

    private static HttpRequestMessage Post(string path, string body, string? keyId, string? signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, path.EndsWith("events", StringComparison.Ordinal) ? "application/x-ndjson" : "application/json"),
        };
        if (keyId is not null) request.Headers.Add(IngestSignature.KeyIdHeader, keyId);
        if (signature is not null) request.Headers.Add(IngestSignature.SignatureHeader, signature);
        return request;
    }

    private static string Sign(string body, DateTimeOffset? at = null, string secret = TestIngestKey.Secret) =>
        IngestSignature.Header(secret, at ?? DateTimeOffset.UtcNow, Encoding.UTF8.GetBytes(body));

    private async Task<JsonElement> Refused(HttpRequestMessage request, string title)
    {
        var r = await _plain.SendAsync(request);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(r.StatusCode == HttpStatusCode.Unauthorized, $"{(int)r.StatusCode} {problem}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.StartsWith("Attribution-Signature", r.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        return problem;
    }

    /// <summary>A refused event is never stored: a signed one sent after it is, and the refused one is still absent.</summary>
    private async Task AssertNotStoredAsync(string refusedImpression)
    {
        var marker = $"sig-marker-{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.Accepted, (await _signed.PostAsync("/api/v1/events", new StringContent(Impression(marker), Encoding.UTF8, "application/x-ndjson"))).StatusCode);
        await Eventually.TrueAsync(async () => (await _signed.GetAsync($"/api/v1/impressions/{marker}")).StatusCode == HttpStatusCode.OK, "the signed batch is applied");
        await api.WaitForDrainAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await _signed.GetAsync($"/api/v1/impressions/{refusedImpression}")).StatusCode);
    }

    [Fact]
    public async Task A_batch_without_a_signature_is_refused_with_401_and_nothing_of_it_is_stored()
    {
        var problem = await Refused(Post("/api/v1/events", Impression("sig-none"), null, null), "Signature required");
        Assert.Contains(IngestSignature.KeyIdHeader, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await Refused(Post("/api/v1/events", Impression("sig-none"), TestIngestKey.KeyId, null), "Signature required");
        await AssertNotStoredAsync("sig-none");
    }

    [Fact]
    public async Task A_postback_signed_over_a_different_body_is_refused_and_not_stored()
    {
        var body = """{"impression_id":"sig-other","conversion_value":99}""";
        var signedOver = """{"impression_id":"sig-other","conversion_value":1}""";
        var problem = await Refused(Post("/api/v1/conversions", body, TestIngestKey.KeyId, Sign(signedOver)), "Wrong signature");
        Assert.DoesNotContain(TestIngestKey.Secret, problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stale_or_future_timestamp_is_refused_and_one_inside_five_minutes_is_taken()
    {
        var body = Impression("sig-time");
        await Refused(Post("/api/v1/events", body, TestIngestKey.KeyId, Sign(body, DateTimeOffset.UtcNow.AddSeconds(-330))), "Signature expired");
        var future = await Refused(Post("/api/v1/events", body, TestIngestKey.KeyId, Sign(body, DateTimeOffset.UtcNow.AddSeconds(330))), "Signature expired");
        Assert.Contains("future", future.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var r = await _plain.SendAsync(Post("/api/v1/events", body, TestIngestKey.KeyId, Sign(body, DateTimeOffset.UtcNow.AddSeconds(-270))));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
    }

    [Theory]
    [InlineData("v1=abc")]
    [InlineData("t=abc,v1=0000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("t=1700000000")]
    [InlineData("t=1700000000,v1=XYZ")]
    [InlineData("t=1700000000,v1=00000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("garbage")]
    public async Task A_malformed_signature_header_is_refused_as_malformed(string header) =>
        await Refused(Post("/api/v1/events", Impression("sig-malformed"), TestIngestKey.KeyId, header), "Malformed signature");

    [Fact]
    public async Task An_unknown_key_is_refused_and_several_v1_values_are_accepted_while_secrets_rotate()
    {
        var body = Impression("sig-rotate");
        await Refused(Post("/api/v1/events", body, "nobody", Sign(body)), "Unknown ingest key");

        var old = Sign(body, secret: "an-old-secret");
        var current = Sign(body);
        var both = $"{old},v1={current[(current.IndexOf("v1=", StringComparison.Ordinal) + 3)..]}";
        var r = await _plain.SendAsync(Post("/api/v1/events", body, TestIngestKey.KeyId, both));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
    }

    [Fact]
    public async Task A_key_made_through_the_api_signs_until_it_is_revoked_and_its_secret_is_never_listed()
    {
        using var admin = api.CreateDefaultClient(new Uri("http://localhost"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await admin.PostAsync("/api/v1/ingest-keys", null)).StatusCode);
        admin.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);

        var created = await admin.PostAsync("/api/v1/ingest-keys", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var (id, secret) = (key.GetProperty("key_id").GetString()!, key.GetProperty("secret").GetString()!);
        Assert.True(secret.Length >= 40, "a secret of 256 random bits");

        var body = Impression("sig-api-key");
        Assert.Equal(HttpStatusCode.Accepted, (await _plain.SendAsync(Post("/api/v1/events", body, id, Sign(body, secret: secret)))).StatusCode);

        var listed = await admin.GetStringAsync("/api/v1/ingest-keys");
        Assert.DoesNotContain(secret, listed, StringComparison.Ordinal);
        Assert.DoesNotContain(TestIngestKey.Secret, listed, StringComparison.Ordinal);
        var entry = JsonDocument.Parse(listed).RootElement.EnumerateArray().Single(k => k.GetProperty("key_id").GetString() == id);
        Assert.Equal("api", entry.GetProperty("source").GetString());
        Assert.Equal(JsonValueKind.String, entry.GetProperty("last_used_at").ValueKind);
        Assert.Contains(JsonDocument.Parse(listed).RootElement.EnumerateArray(), k => k.GetProperty("key_id").GetString() == TestIngestKey.KeyId
            && k.GetProperty("source").GetString() == "configuration");

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/ingest-keys/{id}")).StatusCode);
        await Refused(Post("/api/v1/events", body, id, Sign(body, secret: secret)), "Unknown ingest key");
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/v1/ingest-keys/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync($"/api/v1/ingest-keys/{TestIngestKey.KeyId}")).StatusCode);
    }

    [Fact]
    public async Task A_key_made_on_one_instance_verifies_on_another_and_its_revocation_holds_there_within_seconds()
    {
        using var other = ApiFactory.With(new Dictionary<string, string?> { ["Kafka:RunConsumer"] = "false" }, sameDatabaseAs: api);
        using var otherClient = other.CreateDefaultClient(new Uri("http://localhost"));
        using var admin = api.CreateDefaultClient(new Uri("http://localhost"));
        admin.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        var key = await (await admin.PostAsync("/api/v1/ingest-keys", null)).Content.ReadFromJsonAsync<JsonElement>();
        var (id, secret) = (key.GetProperty("key_id").GetString()!, key.GetProperty("secret").GetString()!);
        var body = Impression("sig-other-instance");

        async Task<HttpStatusCode> SendToOther() => (await otherClient.SendAsync(Post("/api/v1/events", body, id, Sign(body, secret: secret)))).StatusCode;
        await Eventually.TrueAsync(async () => await SendToOther() == HttpStatusCode.Accepted, "the other instance takes the new key", TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/v1/ingest-keys/{id}")).StatusCode);
        // Notified, not polled: the refresh interval (30 s) is far longer than this wait.
        await Eventually.TrueAsync(async () => await SendToOther() == HttpStatusCode.Unauthorized, "the other instance refuses the revoked key", TimeSpan.FromSeconds(5));
    }
}
