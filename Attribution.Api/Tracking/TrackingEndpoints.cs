using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Events;
using Attribution.Domain.Tracking;
using Attribution.Projections;
using Attribution.Projections.Campaigns;
using Attribution.Projections.EventStore;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Api.Tracking;

/// <summary>The write side: pixel, click redirect, conversion postback and batch ingest.</summary>
public static class TrackingEndpoints
{
    /// <summary>The 43-byte transparent 1×1 GIF.</summary>
    private static readonly byte[] Pixel = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    public static IEndpointRouteBuilder MapTracking(this IEndpointRouteBuilder app)
    {
        var tracking = app.MapGroup("").WithTags("Tracking");
        tracking.MapGet("/pixel", TrackImpression).WithName("Pixel")
            .WithSummary("Records an IMPRESSION and answers the 1×1 transparent GIF")
            .WithDescription("Query: impression_id (required), campaign_id, creative_id, user_id, geo_country, platform, bid_price, event_id, event_timestamp, and any other field (kept in the raw payload).")
            .Produces(200, contentType: "image/gif");
        tracking.MapGet("/click", TrackClick).WithName("Click")
            .WithSummary("Records a CLICK and redirects (302) to the http(s) target with the click_id appended, when the URL is signed or the target is a landing domain of its campaign")
            .WithDescription("Query: impression_id and redirect (required), sig (from GET /api/v1/click-urls) or campaign_id (whose landing_domains " +
                             "hold the redirect's host), plus the pixel's optional fields. Anything else is a 400, with no redirect and no click recorded.");
        tracking.MapPost("/api/v1/conversions", TrackConversion).WithName("Conversion")
            .WithSummary("Server-to-server conversion postback; answers once it is stored on disk (needs a signature: Attribution-Key-Id, Attribution-Signature)")
            .Accepts<ConversionPostback>("application/json").RequireIngestSignature();
        tracking.MapPost("/api/v1/events", TrackBatch).WithName("EventsBatch")
            .WithSummary("Batch of full events as a JSON array or NDJSON (application/x-ndjson); answers once they are stored on disk (needs a signature: Attribution-Key-Id, Attribution-Signature)")
            .Accepts<JsonElement>("application/json", "application/x-ndjson").RequireIngestSignature();
        return app;
    }

    /// <summary>Postback body. Either impression_id or click_id is required.</summary>
    public sealed record ConversionPostback(string? ImpressionId, string? ClickId, decimal? ConversionValue,
        string? ConversionType, string? EventId, double? EventTimestamp);

    public sealed record EventAccepted(string EventId);

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> TrackImpression(HttpContext http, TrackingIngest ingest, CancellationToken ct)
    {
        var e = ingest.PrepareFromQuery(Query(http), EventTypeNames.Impression, Client(http));
        ingest.Count("pixel", e.Validation);
        if (e.Validation.Rejection is { } r) return Problems.BadRequest(r.Detail, "The impression is not valid");
        if (await ingest.TrySendAsync([e], ct) is { } unavailable) return Problems.Unavailable(http, unavailable);
        http.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate";
        return TypedResults.File(Pixel, "image/gif");
    }

    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> TrackClick(
        HttpContext http, TrackingIngest ingest, ClickSigningKeys keys, LandingDomainCache landingDomains, TimeProvider clock, CancellationToken ct)
    {
        if (ClickRedirects.ReadClick(http.Request.Query, out var ambiguous) is not { } click) return Problems.BadRequest(ambiguous!, "The click redirect is not allowed");
        var now = clock.GetUtcNow();
        // Refused before anything is stamped or spooled: a refused click is no click.
        var decision = ClickRedirect.Decide(click, keys, campaign => landingDomains.At(campaign, now));
        if (decision is ClickRedirectDecision.Refused refused) return Problems.BadRequest(refused.Detail, "The click redirect is not allowed");
        var target = ((ClickRedirectDecision.Allowed)decision).Target;

        var e = ingest.PrepareFromQuery(Query(http), EventTypeNames.Click, Client(http));
        ingest.Count("click", e.Validation);
        if (e.Validation.Rejection is { } r) return Problems.BadRequest(r.Detail, "The click is not valid");
        if (await ingest.TrySendAsync([e], ct) is { } unavailable) return Problems.Unavailable(http, unavailable);

        var clickId = e.Validation.Event!.EventId;
        // The checked URL, host in its ASCII form, not the text it was read from.
        return TypedResults.Redirect(QueryHelpers.AddQueryString(target.Url, "click_id", clickId));
    }

    private static async Task<Results<Accepted<EventAccepted>, ProblemHttpResult>> TrackConversion(
        HttpRequest request, TrackingIngest ingest, NpgsqlDataSource db, IOptions<TrackingOptions> options, CancellationToken ct)
    {
        var body = await Body.ReadAsync(request, options.Value.MaxBodyBytes, ct);
        if (body is null) return Problems.TooLarge(options.Value.MaxBodyBytes);
        JsonObject payload;
        try
        {
            payload = TrackingIngest.Parse(body) as JsonObject ?? throw new JsonException("expected a JSON object");
        }
        catch (JsonException ex)
        {
            return Problems.BadRequest($"The body must be a JSON object: {ex.Message}", "The conversion is not valid");
        }

        payload[EventFields.EventType] = EventTypeNames.Conversion;
        if (payload[EventFields.ImpressionId] is null && payload[EventFields.ClickId]?.GetValueKind() == JsonValueKind.String)
        {
            // Rule 10 (click_id postbacks): resolving here keys the message by its impression; a click not stored
            // yet is resolved by the consumer when it arrives, and so is every click while PostgreSQL is away: the
            // postback is still taken into the spool.
            var clickId = payload[EventFields.ClickId]!.GetValue<string>();
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                var found = await EventStoreReader.ClickImpressionsAsync(conn, null, [clickId], ct);
                if (found.TryGetValue(clickId, out var impressionId)) payload[EventFields.ImpressionId] = impressionId;
            }
            catch (Exception outage) when (PostgresOutage.IsUnavailable(outage))
            {
                // Left to the consumer, as above.
            }
        }

        var e = ingest.Prepare(payload);
        ingest.Count("conversions", e.Validation);
        if (e.Validation.Rejection is { } r) return Problems.BadRequest(r.Detail, "The conversion is not valid");
        if (await ingest.TrySendAsync([e], ct) is { } unavailable) return Problems.Unavailable(request.HttpContext, unavailable);

        return TypedResults.Accepted((string?)null, new EventAccepted(e.Validation.Event!.EventId));
    }

    private static async Task<Results<Accepted<BatchAccepted>, ProblemHttpResult>> TrackBatch(
        HttpRequest request, TrackingIngest ingest, IOptions<TrackingOptions> options, CancellationToken ct)
    {
        var body = await Body.ReadAsync(request, options.Value.MaxBodyBytes, ct);
        if (body is null) return Problems.TooLarge(options.Value.MaxBodyBytes);
        if (body.Length == 0) return Problems.BadRequest("The body is empty: send a JSON array of events or NDJSON", "The batch is not valid");
        var ndjson = request.ContentType?.Contains("ndjson", StringComparison.OrdinalIgnoreCase) == true;
        var (events, rejected) = ingest.PrepareBatch(body, ndjson);
        if (events.Count > options.Value.MaxBatchEvents)
            return Problems.BadRequest($"A batch holds at most {options.Value.MaxBatchEvents} events, got {events.Count}", "The batch is too large");
        foreach (var e in events) ingest.Count("events", e.Validation);
        if (await ingest.TrySendAsync(events, ct) is { } unavailable) return Problems.Unavailable(request.HttpContext, unavailable);

        return TypedResults.Accepted((string?)null, new BatchAccepted(events.Count - rejected.Count, rejected));
    }

    /// <summary>The connection's address (a trusted proxy's X-Forwarded-For has replaced it by now) and the User-Agent header.</summary>
    private static ObservedClient Client(HttpContext http) =>
        ObservedClient.Of(http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString());

    private static IEnumerable<KeyValuePair<string, string?>> Query(HttpContext http) =>
        http.Request.Query.Select(q => new KeyValuePair<string, string?>(q.Key, q.Value.FirstOrDefault()));
}
