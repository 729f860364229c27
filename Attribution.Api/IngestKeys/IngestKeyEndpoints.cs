using Attribution.Api.Infrastructure;
using Attribution.Projections.Ingest;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Attribution.Api.IngestKeys;

/// <summary>The keys that sign postbacks and batches: made, listed and revoked with the admin key.</summary>
public static class IngestKeyEndpoints
{
    public static IEndpointRouteBuilder MapIngestKeys(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/ingest-keys").WithTags("Ingest keys").RequireAdminKey();
        group.MapPost("", Create).WithName("CreateIngestKey")
            .WithSummary("Makes an ingest key and answers its id and secret; the secret is never shown again (needs X-Admin-Key)");
        group.MapGet("", List).WithName("IngestKeys")
            .WithSummary("Every active ingest key: id, where it comes from, creation time and last use; never a secret (needs X-Admin-Key)");
        group.MapDelete("/{keyId}", Revoke).WithName("RevokeIngestKey")
            .WithSummary("Revokes an ingest key on every instance at once (needs X-Admin-Key); keys from configuration are removed there");
        return app;
    }

    /// <summary>The only answer that holds the secret.</summary>
    public sealed record CreatedIngestKey(string KeyId, string Secret, DateTimeOffset CreatedAt);

    private static async Task<Created<CreatedIngestKey>> Create(IngestKeyStore store, CancellationToken ct)
    {
        var key = await store.CreateAsync(ct);
        return TypedResults.Created($"/api/v1/ingest-keys/{key.KeyId}", new CreatedIngestKey(key.KeyId, key.Secret, key.CreatedAt));
    }

    private static Ok<IReadOnlyList<IngestKeyInfo>> List(IngestKeyRing ring) => TypedResults.Ok(ring.List());

    private static async Task<Results<NoContent, ProblemHttpResult>> Revoke(string keyId, IngestKeyStore store, IngestKeyRing ring, CancellationToken ct)
    {
        if (ring.IsConfigured(keyId))
            return Problems.Conflict($"The ingest key '{keyId}' comes from configuration (Ingest:Keys:{keyId}): remove it there and restart.", "Configured key");
        return await store.DeleteAsync(keyId, ct)
            ? TypedResults.NoContent()
            : Problems.NotFound($"No ingest key '{keyId}'.");
    }
}
