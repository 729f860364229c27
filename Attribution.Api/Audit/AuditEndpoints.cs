using Attribution.Api.Infrastructure;
using Attribution.Domain.Attribution;
using Attribution.Projections.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Audit;

/// <summary>The audit trail: every event that did not count, and why.</summary>
public static class AuditEndpoints
{
    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/audit").WithTags("Audit")
            .MapGet("", Find).WithName("Audit")
            .WithSummary("Audit rows, newest first, filtered by event_id, impression_id and reason")
            .WithDescription($"reason: {string.Join(", ", Enum.GetValues<AuditReason>().Select(r => r.ToWire()))}. limit: 1..10000 (default 100).");
        return app;
    }

    public sealed record AuditRow(string? EventId, string? ImpressionId, string? EventType, string Reason, string? Detail, DateTime RecordedAt);

    public sealed record AuditResponse(IReadOnlyList<AuditRow> Rows);

    private static async Task<Results<Ok<AuditResponse>, ProblemHttpResult>> Find(
        [FromQuery(Name = "event_id")] string? eventId, [FromQuery(Name = "impression_id")] string? impressionId, string? reason, int? limit, AuditQueries audit, CancellationToken ct)
    {
        if (QueryText.NulError(("event_id", eventId), ("impression_id", impressionId)) is { } nul) return Problems.BadRequest(nul);
        string? reasonWire = null;
        if (!string.IsNullOrWhiteSpace(reason))
        {
            if (AuditReasons.TryParse(reason) is not { } parsed)
                return Problems.BadRequest($"Unknown reason '{reason}'. Known: {string.Join(", ", Enum.GetValues<AuditReason>().Select(r => r.ToWire()))}");
            reasonWire = parsed.ToWire();
        }

        if (limit is < 1 or > 10_000) return Problems.BadRequest($"'limit' must be between 1 and 10000, got {limit}");
        var rows = await audit.FindAsync(Blank(eventId), Blank(impressionId), reasonWire, limit ?? 100, ct);
        return TypedResults.Ok(new AuditResponse(rows.Select(r => new AuditRow(r.EventId, r.ImpressionId, r.EventType, r.Reason, r.Detail, r.RecordedAt)).ToList()));
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
}
