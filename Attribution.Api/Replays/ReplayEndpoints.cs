using Attribution.Api.Infrastructure;
using Attribution.Domain.Attribution;
using Attribution.Projections.Replays;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Attribution.Api.Replays;

/// <summary>What-if replays: the stored events folded under other attribution rules into a shadow Gold of their own,
/// compared with live Gold. Live Gold, the audit log and the rollups are never written.</summary>
public static class ReplayEndpoints
{
    public static IEndpointRouteBuilder MapReplays(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/replays").WithTags("Replays").RequireAdminKey();
        group.MapPost("", Start).WithName("StartWhatIfReplay")
            .WithSummary("Starts a what-if replay of the stored events under other rules into a shadow Gold of its own (needs X-Admin-Key)")
            .WithDescription("lookback_days (0, 366] and late_threshold_minutes [0, 525600] left out are the attribution config in force; " +
                             "from/to (ISO-8601 or Unix epoch seconds) restrict the replay to impressions whose impression time is in [from, to). " +
                             "Answers 202 with the replay and its Location; one replay runs at a time (409 while another runs).");
        group.MapGet("", List).WithName("WhatIfReplays")
            .WithSummary("Every what-if replay with its state and progress, newest first (needs X-Admin-Key)");
        group.MapGet("/{id}", Get).WithName("WhatIfReplay")
            .WithSummary("A what-if replay's state (running, completed, failed), progress, parameters and times (needs X-Admin-Key)");
        group.MapGet("/{id}/diff", Diff).WithName("WhatIfReplayDiff")
            .WithSummary("Per campaign live against what-if conversions, revenue, revenue_out_of_window and roas, and the changed impressions explained (needs X-Admin-Key)")
            .WithDescription("live covers the impressions the replay covered, as the replay read them. changed_impressions lists the first 50 " +
                             "by impression id with the explain sentence of each changed event under both rule sets; changed_impressions_total counts them all. " +
                             "409 while the replay runs or when it failed.");
        group.MapDelete("/{id}", Delete).WithName("DeleteWhatIfReplay")
            .WithSummary("Drops a what-if replay's shadow schema and its record; a running replay is cancelled first (needs X-Admin-Key)");
        return app;
    }

    public sealed record WhatIfReplayRequest(double? LookbackDays, double? LateThresholdMinutes, string? From, string? To);

    public sealed record ReplayParameters(double LookbackDays, double LateThresholdMinutes, DateTime? From, DateTime? To);

    public sealed record ReplayRules(double LookbackDays, double LateThresholdMinutes);

    public sealed record ReplayProgress(long Done, long? Total);

    /// <summary>A replay: its parameters next to the live rules it is compared with, and its shadow schema.</summary>
    public sealed record ReplayView(
        string Id, string State, ReplayProgress Progress, ReplayParameters Parameters, ReplayRules LiveRules, long ChangedImpressions,
        string Schema, DateTime StartedAt, DateTime? FinishedAt, string? Error)
    {
        public static ReplayView From(ReplayRecord r) => new(r.Id, r.State, new ReplayProgress(r.Done, r.Total),
            new ReplayParameters(r.LookbackDays, r.LateThresholdMinutes, r.From, r.To), new ReplayRules(r.LiveLookbackDays, r.LiveLateThresholdMinutes),
            r.Changed, r.Schema, r.StartedAt, r.FinishedAt, r.Error);
    }

    public sealed record ReplayList(IReadOnlyList<ReplayView> Replays);

    public sealed record ReplayDiffView(
        string ReplayId, IReadOnlyList<CampaignComparison> Campaigns, IReadOnlyList<ChangedImpression> ChangedImpressions, long ChangedImpressionsTotal);

    private static async Task<Results<Accepted<ReplayView>, ProblemHttpResult>> Start(
        WhatIfReplayRequest request, WhatIfReplays replays, CancellationToken ct)
    {
        if (AttributionPolicy.Check(request.LookbackDays, request.LateThresholdMinutes) is { } rulesError) return Problems.BadRequest(rulesError);
        if (QueryTime.TryParseRange(request.From, request.To, out var from, out var to) is { } rangeError) return Problems.BadRequest(rangeError);
        var start = await replays.StartReplayAsync(
            new WhatIfRequest(request.LookbackDays, request.LateThresholdMinutes, new ImpressionRange(from, to)), ct);
        return start.Started is { } replay
            ? TypedResults.Accepted($"/api/v1/replays/{replay.Id}", ReplayView.From(replay))
            : Problems.Conflict($"What-if replay {start.RunningId} is running; one runs at a time (wait for it, or DELETE it).");
    }

    private static async Task<Ok<ReplayList>> List(ReplayStore store, CancellationToken ct) =>
        TypedResults.Ok(new ReplayList((await store.ListAsync(ct)).Select(ReplayView.From).ToList()));

    private static async Task<Results<Ok<ReplayView>, ProblemHttpResult>> Get(string id, ReplayStore store, CancellationToken ct) =>
        await FindAsync(id, store, ct) is { } replay ? TypedResults.Ok(ReplayView.From(replay)) : NotFound(id);

    private static async Task<Results<Ok<ReplayDiffView>, ProblemHttpResult>> Diff(
        string id, ReplayStore store, ReplayDiffQuery query, CancellationToken ct)
    {
        var replay = await FindAsync(id, store, ct);
        if (replay is null) return NotFound(id);
        if (replay.State == ReplayStates.Running)
            return Problems.Conflict($"What-if replay {id} is still running ({replay.Done} of {replay.Total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"} impressions); its diff comes when it completes.");
        if (replay.State == ReplayStates.Failed) return Problems.Conflict($"What-if replay {id} failed ({replay.Error}); it has no diff.");
        return await query.ReadAsync(replay, ct) is { } diff
            ? TypedResults.Ok(new ReplayDiffView(replay.Id, diff.Campaigns, diff.ChangedImpressions, diff.ChangedImpressionsTotal))
            : Problems.Gone($"What-if replay {id}'s schema {replay.Schema} no longer exists.");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, WhatIfReplays replays, CancellationToken ct)
    {
        if (!ReplayIds.IsValid(id)) return NotFound(id);
        return await replays.DeleteAsync(id, ct) switch
        {
            WhatIfDeletion.Deleted => TypedResults.NoContent(),
            WhatIfDeletion.RunningElsewhere => Problems.Conflict($"What-if replay {id} is running on another instance; DELETE it there, or wait for it."),
            _ => NotFound(id),
        };
    }

    /// <summary>A replay by id; an id we could not have made is no replay, and never reaches SQL.</summary>
    private static async Task<ReplayRecord?> FindAsync(string id, ReplayStore store, CancellationToken ct) =>
        ReplayIds.IsValid(id) ? await store.GetAsync(id, ct) : null;

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"No what-if replay '{(id.Length > 40 ? id[..40] + "…" : id)}'.");
}
