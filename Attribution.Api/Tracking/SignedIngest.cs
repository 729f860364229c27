using Attribution.Api.Infrastructure;
using Attribution.Domain.Security;
using Attribution.Projections.Ingest;
using Microsoft.Extensions.Options;

namespace Attribution.Api.Tracking;

/// <summary>Postbacks and batches are taken only when signed with an active ingest key (IngestSignature); the body is
/// read once here, as the exact bytes that were signed, and handed to the handler.</summary>
public static class SignedIngest
{
    private const string Scheme = "Attribution-Signature realm=\"ingest\"";

    public static TBuilder RequireIngestSignature<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.WithMetadata(RequiresCredentials.Instance);
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var limit = http.RequestServices.GetRequiredService<IOptions<TrackingOptions>>().Value.MaxBodyBytes;
            var body = await Body.ReadAsync(http.Request, limit, http.RequestAborted);
            if (body is null) return Problems.TooLarge(limit);
            var ring = http.RequestServices.GetRequiredService<IngestKeyRing>();
            var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            var keyId = http.Request.Headers[IngestSignature.KeyIdHeader].ToString();
            var verdict = IngestSignature.Verify(keyId, http.Request.Headers[IngestSignature.SignatureHeader].ToString(), body, ring.SecretOf, now);
            if (verdict != SignatureVerdict.Valid)
            {
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SignedIngest))
                    .LogInformation("Refused an ingest request from client {Client} naming key {KeyId}: {Verdict}",
                        ClientAddress.Hashed(ClientAddress.Of(http)), keyId.Length > 64 ? keyId[..64] : keyId, verdict);
                return Problems.Unauthorized(http, Title(verdict), IngestSignature.Describe(verdict), Scheme);
            }
            ring.Used(keyId, now);
            return await next(context);
        });
        return builder;
    }

    private static string Title(SignatureVerdict verdict) => verdict switch
    {
        SignatureVerdict.MissingKeyId or SignatureVerdict.MissingSignature => "Signature required",
        SignatureVerdict.Malformed => "Malformed signature",
        SignatureVerdict.UnknownKey => "Unknown ingest key",
        SignatureVerdict.Expired or SignatureVerdict.FromTheFuture => "Signature expired",
        _ => "Wrong signature",
    };
}
