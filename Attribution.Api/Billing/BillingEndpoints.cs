using System.Text.Json;
using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Billing;
using Attribution.Projections.Billing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Attribution.Api.Billing;

/// <summary>Billing reports (issue 22): pay per impression or per click, by the campaign version in force at each
/// event's time, without duplicates, invalid or fraud-flagged events; closed months answer the same bytes forever.</summary>
public static class BillingEndpoints
{
    public static IEndpointRouteBuilder MapBilling(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/billing").WithTags("Billing");
        group.MapGet("", Bill).WithName("Billing")
            .WithSummary("One line per campaign version in force during [from, to): billable impressions (CPM) or clicks (CPC), the amount, what was excluded, and the lineage")
            .WithDescription("from/to (required, at most 92 days) bound each event's own time; campaign_id filters. An impression is billed at its bid_price " +
                             "when the version valid at its time is CPM, a valid click at the version's cpc_rate when it is CPC. Fraud-flagged events and " +
                             "duplicate impressions are excluded (and counted as such); duplicate event ids and invalid events are never stored. lineage: " +
                             "event_count, events_sha256 (hex SHA-256 of the billed event ids sorted by ordinal, each followed by \\n) and bronze_snapshot_id " +
                             "(the first bronze.ad_events snapshot holding them all; null until they are exported). Accept: text/csv answers CSV.")
            .Produces(200, contentType: BillingCsv.ContentType);
        group.MapGet("/periods/{period}", Period).WithName("BillingPeriod")
            .WithSummary("A month's bill (yyyy-mm, UTC): frozen bytes once closed, else its charges plus adjustments for late events of the closed months before it")
            .WithDescription("Accept: text/csv answers CSV. An adjustment line bills events of a closed month that were not in its bill when it closed, " +
                             "and names that month in corrects_period.")
            .Produces(200, contentType: BillingCsv.ContentType);
        group.MapPost("/periods/{period}/close", Close).WithName("CloseBillingPeriod").RequireAdminKey()
            .WithSummary("Closes a month that has ended: its bill (JSON and CSV) is stored and answered byte for byte from now on (needs X-Admin-Key)")
            .WithDescription("409 when the month is already closed or has not ended yet. Events of the month that arrive later are billed as adjustments in the next open month.");
        return app;
    }

    public sealed record LineageView(int EventCount, string EventsSha256, long? BronzeSnapshotId);

    /// <summary>line_type is "charge", or "adjustment" for late events of the closed month named in corrects_period.</summary>
    public sealed record BillingLineView(
        string LineType, string? CorrectsPeriod, string CampaignId, long CampaignKey, string BillingModel, decimal? CpcRate,
        DateTimeOffset VersionStart, DateTimeOffset VersionEnd, int BillableImpressions, int BillableClicks, decimal Amount,
        int ExcludedImpressions, int ExcludedClicks, decimal ExcludedAmount, LineageView Lineage)
    {
        public const string Charge = "charge";
        public const string Adjustment = "adjustment";

        public static BillingLineView From(BillingLine l) =>
            new(l.IsAdjustment ? Adjustment : Charge, l.CorrectsPeriod?.ToString(), l.CampaignId, l.CampaignKey, l.BillingModel.ToCode(), l.CpcRate,
                l.VersionStart, l.VersionEnd, l.BillableImpressions, l.BillableClicks, l.Amount, l.ExcludedImpressions, l.ExcludedClicks, l.ExcludedAmount,
                new LineageView(l.Lineage.EventCount, l.Lineage.EventsSha256, l.Lineage.BronzeSnapshotId));
    }

    public sealed record BillingView(DateTimeOffset From, DateTimeOffset To, string? CampaignId, decimal TotalAmount, IReadOnlyList<BillingLineView> Lines);

    /// <summary>status is "open" (computed at each request) or "closed" (frozen at closed_at).</summary>
    public sealed record PeriodView(string Period, string Status, DateTimeOffset? ClosedAt, DateTimeOffset From, DateTimeOffset To, decimal TotalAmount,
        IReadOnlyList<BillingLineView> Lines);

    private static async Task<Results<Ok<BillingView>, ContentHttpResult, ProblemHttpResult>> Bill(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, HttpRequest request, BillingLedger ledger, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        var (fromTime, toTime) = (new DateTimeOffset(f, TimeSpan.Zero), new DateTimeOffset(t, TimeSpan.Zero));
        var lines = (await ledger.LinesAsync(fromTime, toTime, AnalyticsQuery.Optional(campaignId), ct)).Select(BillingLineView.From).ToList();
        if (BillingCsv.Wanted(request)) return TypedResults.Text(BillingCsv.Write(lines), BillingCsv.ContentType);
        return TypedResults.Ok(new BillingView(fromTime, toTime, AnalyticsQuery.Optional(campaignId), lines.Sum(l => l.Amount), lines));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Period(
        string period, HttpRequest request, BillingLedger ledger, IOptions<HttpJsonOptions> json, CancellationToken ct)
    {
        if (!BillingPeriod.TryParse(period, out var month)) return Problems.BadRequest($"period must be yyyy-mm (2000-01 to 9998-12), got '{period}'");
        var bill = await ledger.PeriodAsync(month, ct);
        var (jsonBody, csvBody) = bill.Closed is { } closed ? (closed.Json, closed.Csv) : Render(json.Value.SerializerOptions, month, null, bill.Lines);
        return BillingCsv.Wanted(request)
            ? TypedResults.Bytes(csvBody, BillingCsv.ContentType)
            : TypedResults.Bytes(jsonBody, "application/json");
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Close(
        string period, HttpRequest request, BillingLedger ledger, IOptions<HttpJsonOptions> json, TimeProvider clock, CancellationToken ct)
    {
        if (!BillingPeriod.TryParse(period, out var month)) return Problems.BadRequest($"period must be yyyy-mm (2000-01 to 9998-12), got '{period}'");
        var options = json.Value.SerializerOptions;
        var (closed, error) = await ledger.CloseAsync(month, clock.GetUtcNow(), (p, at, lines) => Render(options, p, at, lines), ct);
        if (closed is null) return Problems.Conflict(error!, "The period cannot be closed");
        return BillingCsv.Wanted(request)
            ? TypedResults.Bytes(closed.Csv, BillingCsv.ContentType)
            : TypedResults.Bytes(closed.Json, "application/json");
    }

    /// <summary>Both renderings of a month's bill; a close stores exactly these bytes.</summary>
    private static (byte[] Json, byte[] Csv) Render(JsonSerializerOptions options, BillingPeriod period, DateTimeOffset? closedAt, IReadOnlyList<BillingLine> lines)
    {
        var views = lines.Select(BillingLineView.From).ToList();
        var view = new PeriodView(period.ToString(), closedAt is null ? "open" : "closed", closedAt, period.Start, period.End, views.Sum(l => l.Amount), views);
        return (JsonSerializer.SerializeToUtf8Bytes(view, options), System.Text.Encoding.UTF8.GetBytes(BillingCsv.Write(views)));
    }
}
