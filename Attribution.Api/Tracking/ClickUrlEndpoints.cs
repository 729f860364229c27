using Attribution.Api.Infrastructure;
using Attribution.Domain.Tracking;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace Attribution.Api.Tracking;

/// <summary>Signed click URLs for ad servers (issue 19): a /click link that redirects wherever its signer chose.</summary>
public static class ClickUrlEndpoints
{
    public static IEndpointRouteBuilder MapClickUrls(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").WithTags("Tracking")
            .MapGet("/click-urls", SignedClickUrl).WithName("ClickUrl").RequireAdminKey()
            .WithSummary("A signed /click URL for an ad server (needs X-Admin-Key)")
            .WithDescription("Signs impression_id and redirect with the first key of Tracking:ClickSigningKeys. The url is relative to the " +
                             "service's own base (the request's Host header is the client's to choose); append campaign_id, creative_id " +
                             "and the pixel's other fields as needed, the signature covers impression_id and redirect only. 400 for a redirect " +
                             "that is not a clean absolute http(s) URL, 503 when no click signing key is configured.");
        return app;
    }

    /// <summary>url: "/click?impression_id=…&amp;redirect=…&amp;sig=…", relative to the service's base; sig: the signature in it.</summary>
    public sealed record ClickUrl(string Url, string Sig);

    private static Results<Ok<ClickUrl>, ProblemHttpResult> SignedClickUrl(
        [FromQuery(Name = "impression_id")] string? impressionId, [FromQuery] string? redirect, ClickSigningKeys keys)
    {
        if (string.IsNullOrEmpty(impressionId)) return Problems.BadRequest("'impression_id' is required", "The click URL cannot be signed");
        if (QueryText.NulError(("impression_id", impressionId)) is { } nul) return Problems.BadRequest(nul, "The click URL cannot be signed");
        if (!RedirectTarget.TryParse(redirect, out _, out var why))
            return Problems.BadRequest($"'redirect' must be a clean absolute http or https URL: {why}", "The click URL cannot be signed");
        if (!keys.CanSign) return Problems.NotConfigured("No click signing key is configured (Tracking:ClickSigningKeys): this service cannot sign click URLs.");

        var sig = keys.Sign(impressionId, redirect!);
        var url = QueryHelpers.AddQueryString("/click", new Dictionary<string, string?> { ["impression_id"] = impressionId, ["redirect"] = redirect, ["sig"] = sig });
        return TypedResults.Ok(new ClickUrl(url, sig));
    }
}
