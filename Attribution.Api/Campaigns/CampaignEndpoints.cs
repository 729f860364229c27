using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Billing;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Tracking;
using Attribution.Projections.Campaigns;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

using Scd2Decision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;

namespace Attribution.Api.Campaigns;

/// <summary>The campaign dimension, SCD type 2 (design 000 §3.4): current versions, history, changes, batch feed, pacing.</summary>
public static class CampaignEndpoints
{
    public static IEndpointRouteBuilder MapCampaigns(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1").WithTags("Campaigns");
        group.MapGet("/campaigns", List).WithName("Campaigns").WithSummary("The current version of every campaign");
        group.MapGet("/campaigns/pacing", Pacing).WithName("CampaignPacing")
            .WithSummary("Spend against the budget in force, per campaign per UTC day")
            .WithDescription("from/to (required, at most 92 days) are widened to whole UTC days. The budget is the one of the version in force at the end of " +
                             "the day; pacing = day spend / budget for DAILY budgets, spend to date / budget for LIFETIME ones. campaign_id filters.");
        group.MapGet("/campaigns/{campaignId}", Get).WithName("Campaign").WithSummary("The campaign's current version");
        group.MapGet("/campaigns/{campaignId}/history", History).WithName("CampaignHistory")
            .WithSummary("Every version of the campaign, oldest first: [start_ts, end_ts) with no gap and no overlap");
        group.MapPut("/campaigns/{campaignId}", Put).WithName("ChangeCampaign").RequireAdminKey()
            .WithSummary("Changes budget, status, name, budget type, landing domains or billing now (or at effective_at): closes the current version and opens a new one atomically, only when something changed (needs X-Admin-Key)")
            .WithDescription("landing_domains lists the hosts /click may redirect to for this campaign without a signature: \"shop.example\" exactly, " +
                             "\"*.example.com\" any subdomain of example.com (not example.com itself). Stored lowercase with IDN hosts as punycode; [] clears the list. " +
                             "billing_model is CPM (the default: each billable impression costs its bid_price) or CPC (each billable click costs cpc_rate, " +
                             "which CPC needs); see GET /api/v1/billing.");
        group.MapPost("/campaigns:batch", Stage).WithName("StageCampaignChanges").RequireAdminKey()
            .WithSummary("Stages a batch of campaign changes (the batch feed) for the scheduled SCD2 merge (needs X-Admin-Key)");
        group.MapPost("/campaigns:merge", Merge).WithName("MergeCampaignChanges").RequireAdminKey()
            .WithSummary("Runs the SCD2 merge of every staged change now, in one transaction (needs X-Admin-Key)");
        return app;
    }

    public const int MaxBatch = 10_000;

    public sealed record CampaignVersionView(
        long CampaignKey, string CampaignId, string Name, decimal BudgetAmount, string BudgetType, string Status,
        DateTimeOffset StartTs, DateTimeOffset EndTs, bool IsCurrent, IReadOnlyList<string> LandingDomains, string BillingModel, decimal? CpcRate)
    {
        public static CampaignVersionView From(CampaignVersion v) =>
            new(v.CampaignKey, v.CampaignId, v.Name, v.BudgetAmount, v.BudgetType, v.Status.ToCode(), v.StartTs, v.EndTs, v.IsCurrent, v.LandingDomains.Entries,
                v.BillingModel.ToCode(), v.CpcRate);
    }

    /// <summary>A change; attributes left out keep their current value, and a new campaign needs name, budget_amount,
    /// budget_type and status (landing_domains starts empty). status is ACTIVE or PAUSED, budget_type DAILY or LIFETIME;
    /// effective_at (now when absent) may not be before the current version's start. billing_model is CPM (the default
    /// of a new campaign) or CPC, which needs a cpc_rate.</summary>
    public sealed record CampaignUpdate(string? Name, decimal? BudgetAmount, string? BudgetType, string? Status, DateTimeOffset? EffectiveAt,
        IReadOnlyList<string?>? LandingDomains = null, string? BillingModel = null, decimal? CpcRate = null);

    public sealed record CampaignChangeView(string Outcome, bool Changed, CampaignVersionView? Current);

    public sealed record StagedChange(string? CampaignId, string? Name, decimal? BudgetAmount, string? BudgetType, string? Status, DateTimeOffset? EffectiveAt,
        IReadOnlyList<string?>? LandingDomains = null, string? BillingModel = null, decimal? CpcRate = null);

    public sealed record StageRequest(IReadOnlyList<StagedChange>? Changes);

    public sealed record StagedView(int Staged, IReadOnlyList<long> StagingIds);

    public sealed record PacingView(DateTime From, DateTime To, IReadOnlyList<PacingRow> Rows);

    private static async Task<Ok<List<CampaignVersionView>>> List(CampaignDimension campaigns, CancellationToken ct) =>
        TypedResults.Ok((await campaigns.AllCurrentAsync(ct)).Select(CampaignVersionView.From).ToList());

    private static async Task<Results<Ok<CampaignVersionView>, ProblemHttpResult>> Get(string campaignId, CampaignDimension campaigns, CancellationToken ct) =>
        await campaigns.CurrentAsync(campaignId, ct) is { } v
            ? TypedResults.Ok(CampaignVersionView.From(v))
            : Problems.NotFound($"No campaign '{campaignId}' in dim_campaigns.");

    private static async Task<Results<Ok<List<CampaignVersionView>>, ProblemHttpResult>> History(string campaignId, CampaignDimension campaigns, CancellationToken ct)
    {
        var history = await campaigns.HistoryAsync(campaignId, ct);
        return history.Count == 0
            ? Problems.NotFound($"No campaign '{campaignId}' in dim_campaigns.")
            : TypedResults.Ok(history.Select(CampaignVersionView.From).ToList());
    }

    private static async Task<Results<Created<CampaignChangeView>, Ok<CampaignChangeView>, ProblemHttpResult>> Put(
        string campaignId, CampaignUpdate update, CampaignDimension campaigns, TimeProvider clock, CancellationToken ct)
    {
        var change = Validate(campaignId, update.Name, update.BudgetAmount, update.BudgetType, update.Status, update.EffectiveAt, update.LandingDomains,
            update.BillingModel, update.CpcRate, clock, out var error);
        if (change is null) return Problems.BadRequest(error!);
        if (update is { Name: null, BudgetAmount: null, BudgetType: null, Status: null, LandingDomains: null, BillingModel: null, CpcRate: null })
            return Problems.BadRequest("nothing to change: give at least one of name, budget_amount, budget_type, status, landing_domains, billing_model, cpc_rate");
        var outcome = await campaigns.ChangeAsync(change, ct);
        var current = outcome.Current is null ? null : CampaignVersionView.From(outcome.Current);
        return outcome.Decision switch
        {
            Scd2Decision.Rejected r => Problems.BadRequest(r.Reason, "The change was not applied"),
            Scd2Decision.Created => TypedResults.Created($"/api/v1/campaigns/{Uri.EscapeDataString(campaignId)}", new CampaignChangeView("created", true, current)),
            Scd2Decision.Superseded => TypedResults.Ok(new CampaignChangeView("superseded", true, current)),
            Scd2Decision.Corrected => TypedResults.Ok(new CampaignChangeView("corrected", true, current)),
            _ => TypedResults.Ok(new CampaignChangeView("unchanged", false, current)),
        };
    }

    private static async Task<Results<Accepted<StagedView>, ProblemHttpResult>> Stage(
        StageRequest request, CampaignDimension campaigns, TimeProvider clock, CancellationToken ct)
    {
        if (request.Changes is not { Count: > 0 } items) return Problems.BadRequest("'changes' must hold at least one change");
        if (items.Count > MaxBatch) return Problems.BadRequest($"at most {MaxBatch} changes per batch, got {items.Count}");
        var changes = new List<CampaignChange>(items.Count);
        var errors = new List<string>();
        for (var i = 0; i < items.Count; i++)
        {
            var c = items[i];
            if (c is null)
            {
                errors.Add($"changes[{i}]: null");
                continue;
            }

            var change = Validate(c.CampaignId, c.Name, c.BudgetAmount, c.BudgetType, c.Status, c.EffectiveAt, c.LandingDomains, c.BillingModel, c.CpcRate,
                clock, out var error);
            if (change is null) errors.Add($"changes[{i}]: {error}");
            else changes.Add(change);
        }

        if (errors.Count > 0) return Problems.BadRequest(string.Join("; ", errors.Take(20)), "Some changes are not valid; nothing was staged");
        var ids = await campaigns.StageAsync(changes, ct);
        return TypedResults.Accepted("/api/v1/campaigns:merge", new StagedView(ids.Count, ids));
    }

    private static async Task<Ok<Scd2MergeCounts>> Merge(CampaignDimension campaigns, CancellationToken ct) =>
        TypedResults.Ok(await campaigns.MergeStagedAsync(ct));

    private static async Task<Results<Ok<PacingView>, ProblemHttpResult>> Pacing(
        string? from, string? to, [FromQuery(Name = "campaign_id")] string? campaignId, PacingQueries pacing, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (QueryText.NulError(("campaign_id", campaignId)) is { } nul) return Problems.BadRequest(nul);
        return TypedResults.Ok(new PacingView(f, t, await pacing.PacingAsync(f, t, AnalyticsQuery.Optional(campaignId), ct)));
    }

    /// <summary>The API's contract on a change; what the change does to history (and whether it may) is the domain's call.</summary>
    private static CampaignChange? Validate(string? campaignId, string? name, decimal? budget, string? budgetType, string? status,
        DateTimeOffset? effectiveAt, IReadOnlyList<string?>? landingDomains, string? billingModel, decimal? cpcRate, TimeProvider clock, out string? error)
    {
        error = null;
        CampaignStatus? parsedStatus = null;
        BillingModel? parsedModel = null;
        LandingDomains? parsedDomains = null;
        if (string.IsNullOrWhiteSpace(campaignId) || campaignId.Length > 200) error = "campaign_id must be 1 to 200 characters";
        else if (name is not null && (string.IsNullOrWhiteSpace(name) || name.Length > 500)) error = "name must be 1 to 500 characters";
        // PostgreSQL text cannot hold NUL: stored, it would fail the whole change (or the staged batch).
        else if (campaignId.Contains('\0', StringComparison.Ordinal)) error = "campaign_id contains a NUL character";
        else if (name?.Contains('\0', StringComparison.Ordinal) == true) error = "name contains a NUL character";
        else if (budget is < 0) error = $"budget_amount may not be negative, got {budget}";
        else if (budget is > 999_999_999_999m) error = $"budget_amount is too large, got {budget}";
        else if (budgetType is not null and not (BudgetPacing.Daily or BudgetPacing.Lifetime))
            error = $"budget_type must be {BudgetPacing.Daily} or {BudgetPacing.Lifetime}, got '{budgetType}'";
        else if (status is not null)
        {
            if (CampaignStatusCodes.TryParse(status, out var s)) parsedStatus = s;
            else error = $"status must be {CampaignStatusCodes.Active} or {CampaignStatusCodes.Paused}, got '{status}'";
        }

        if (error is null && landingDomains is not null && !LandingDomains.TryParse(landingDomains, out parsedDomains, out var domainsError))
            error = domainsError;
        if (error is null && billingModel is not null)
        {
            if (BillingModels.TryParse(billingModel, out var m)) parsedModel = m;
            else error = $"billing_model must be {BillingModels.Cpm} or {BillingModels.Cpc}, got '{billingModel}'";
        }

        // Whether the model and rate fit together is the domain's call (CampaignChange.Open); the range is the storage's.
        if (error is null && cpcRate is not null && BillingModels.RateError(BillingModel.Cpm, cpcRate) is { } rateError) error = rateError;

        if (error is not null) return null;
        var at = effectiveAt ?? clock.GetUtcNow();
        // Stored times have microsecond precision; a change effective in between would not round-trip.
        at = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);
        return new CampaignChange(campaignId!, at, name, budget, budgetType, parsedStatus, LandingDomains: parsedDomains,
            BillingModel: parsedModel, CpcRate: cpcRate);
    }
}
