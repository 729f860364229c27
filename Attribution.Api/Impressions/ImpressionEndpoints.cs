using System.Text.Json;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Attribution;
using Attribution.Domain.Fraud;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Fraud;
using Attribution.Projections.Gold;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace Attribution.Api.Impressions;

/// <summary>One impression: its Gold row, its history, and why each event counted or not.</summary>
public static class ImpressionEndpoints
{
    public static IEndpointRouteBuilder MapImpressions(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/impressions").WithTags("Impressions");
        group.MapGet("/{impressionId}", GetImpression).WithName("GetImpression")
            .WithSummary("The impression's Gold row and its event history in stream order");
        group.MapGet("/{impressionId}/explain", Explain).WithName("ExplainImpression")
            .WithSummary("Every event in event-time order with its outcome, the credited click, and a summary per conversion");
        return app;
    }

    public sealed record StoredEventView(
        long Sequence, int StreamVersion, string EventId, string EventType, DateTime EventTime, DateTime IngestTime,
        int? KafkaPartition, long? KafkaOffset, JsonElement Payload);

    public sealed record ImpressionView(
        string ImpressionId, string? CampaignId, string? CreativeId, string? UserId, string? GeoCountry, string? Platform,
        bool IsClicked, bool IsConverted, DateTime? ImpressionTime, DateTime? ClickTime, DateTime? ConversionTime,
        decimal Cost, decimal Revenue, bool Eligible, bool IsLate, long LateByMs, decimal RevenueOutOfWindow,
        DateTime LastUpdatedTs, int StreamVersion, DateTime? HistoryRetiredAt, IReadOnlyList<StoredEventView> Events,
        int ClickCount, int InvalidClickCount, bool FraudSuspected, IReadOnlyList<string> FraudReasons);

    private static async Task<Results<Ok<ImpressionView>, ProblemHttpResult>> GetImpression(
        string impressionId, GoldQueries gold, ImpressionHistory history, NpgsqlDataSource db, CancellationToken ct)
    {
        var row = await gold.GetAsync(impressionId, ct);
        if (row is null) return Problems.NotFound($"No impression '{impressionId}' has been applied (yet).");
        var events = await history.EventsAsync(impressionId, ct);
        var retiredAt = events.Count == 0 ? await RetiredImpressions.RetiredAtAsync(db, impressionId, ct) : null;
        var s = row.State;
        return TypedResults.Ok(new ImpressionView(s.ImpressionId, s.CampaignId, s.CreativeId, s.UserId, s.GeoCountry, s.Platform,
            s.IsClicked, s.IsConverted, s.ImpressionTime, s.ClickTime, s.ConversionTime, s.Cost, s.Revenue, s.Eligible,
            s.IsLate, s.LateByMs, s.RevenueOutOfWindow, row.LastUpdated, row.StreamVersion, retiredAt,
            events.Select(e => new StoredEventView(e.Sequence, e.StreamVersion, e.Event.EventId, e.Event.Type.ToString().ToUpperInvariant(),
                e.Event.EventTime, e.Event.IngestTime, e.KafkaPartition, e.KafkaOffset, JsonDocument.Parse(e.RawPayload).RootElement)).ToList(),
            s.ClickCount, s.InvalidClickCount, s.FraudSuspected, s.FraudReasons.Length == 0 ? [] : s.FraudReasons.Split(',')));
    }

    private static async Task<Results<Ok<Explanation>, ProblemHttpResult>> Explain(
        string impressionId, ImpressionHistory history, NpgsqlDataSource db, AttributionConfigStore config, CancellationToken ct)
    {
        var aggregate = await history.AggregateAsync(impressionId, ct);
        if (aggregate is null)
        {
            return await RetiredImpressions.RetiredAtAsync(db, impressionId, ct) is { } retiredAt
                ? Problems.Gone($"Impression '{impressionId}' was retired from the event store on {retiredAt:yyyy-MM-dd}; its events are in the bronze.ad_events Iceberg table and its Gold row is kept.")
                : Problems.NotFound($"No impression '{impressionId}' has been applied (yet).");
        }

        var policy = await config.ReadAsync(ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        var clickFlags = await JudgedClicks.FlagsAsync(conn, null, [.. aggregate.Events.Select(JudgedClick.Of).OfType<JudgedClick>()], policy.Fraud, ct);
        return TypedResults.Ok(Explainer.Explain(aggregate.Fold(policy, clickFlags), policy));
    }
}
