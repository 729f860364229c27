using Attribution.Api.Infrastructure;
using Attribution.Domain.Experiments;
using Attribution.Projections.Experiments;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Experiments;

/// <summary>A/B tests of creatives (design 004): arms by deterministic assignment, and each arm's CTR and CVR with
/// intervals, tested against the control (docs/EXPERIMENTS.md has the formulas).</summary>
public static class ExperimentEndpoints
{
    public static IEndpointRouteBuilder MapExperiments(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/experiments").WithTags("Experiments");
        group.MapPost("", Create).WithName("CreateExperiment").RequireAdminKey()
            .WithSummary("Creates an A/B test of a campaign's creatives: arms with weights, the first the control (needs X-Admin-Key)")
            .WithDescription("Body: experiment_id, campaign_id, arms [{creative_id, weight}] (2-20 arms, weights relative), start (ISO-8601 or Unix " +
                             "epoch seconds), end (optional, after start), alpha (default 0.05, in (0, 0.5)), mde (relative minimum detectable effect on " +
                             "CTR, default 0.10). 201 with the experiment; 409 when the id exists.");
        group.MapGet("", List).WithName("Experiments").WithSummary("Every experiment with its arms and state (scheduled, running, ended), newest start first");
        group.MapGet("/{experimentId}", Get).WithName("Experiment")
            .WithSummary("Per arm impressions, clicks, conversions, CTR and CVR with 95 % Wilson intervals, each arm against the control " +
                         "(lift, pooled z, two-sided p-value, significant), the sample-ratio-mismatch check and the impressions needed per arm")
            .WithDescription("Counts are the campaign's valid impressions with the arm's creative and impression time in [start, end), and of those " +
                             "the clicked (clicks) and the converted (conversions), as the campaign metrics count them. required_impressions_per_arm " +
                             "detects mde on the control's CTR at alpha with 80 % power; progress is the smallest arm's share of it (at most 1).");
        group.MapGet("/{experimentId}/assignment", Assignment).WithName("ExperimentAssignment")
            .WithSummary("The arm a user sees: a hash of experiment and user id into the weights, the same on every instance and after restarts")
            .WithDescription("user_id (required). Each arm gets its weight's share of users; a user keeps the arm while the weights stay.");
        return app;
    }

    public sealed record ArmRequest(string? CreativeId, double? Weight);

    public sealed record ExperimentRequest(
        string? ExperimentId, string? CampaignId, IReadOnlyList<ArmRequest?>? Arms, string? Start, string? End, double? Alpha, double? Mde);

    public sealed record ArmView(string CreativeId, double Weight, bool Control);

    public sealed record ExperimentView(
        string ExperimentId, string CampaignId, IReadOnlyList<ArmView> Arms, DateTime Start, DateTime? End, double Alpha, double Mde, string State)
    {
        public static ExperimentView From(Experiment e, DateTime now) => new(e.ExperimentId, e.CampaignId,
            e.Arms.Select((a, i) => new ArmView(a.CreativeId, a.Weight, i == 0)).ToList(), e.Start, e.End, e.Alpha, e.Mde, e.StateAt(now));
    }

    public sealed record ExperimentList(IReadOnlyList<ExperimentView> Experiments);

    public sealed record VsControlView(ProportionTest Ctr, ProportionTest Cvr);

    public sealed record ArmResultView(
        string CreativeId, double Weight, bool Control, long Impressions, long Clicks, long Conversions,
        double? Ctr, Interval? CtrCi, double? Cvr, Interval? CvrCi, VsControlView? VsControl)
    {
        public static ArmResultView From(ArmResult a, bool control) => new(a.Arm.CreativeId, a.Arm.Weight, control, a.Impressions, a.Clicks, a.Conversions,
            a.Ctr, a.CtrCi, a.Cvr, a.CvrCi, a.CtrVsControl is { } ctr && a.CvrVsControl is { } cvr ? new VsControlView(ctr, cvr) : null);
    }

    public sealed record ExperimentResultView(
        string ExperimentId, string CampaignId, DateTime Start, DateTime? End, double Alpha, double Mde, string State,
        IReadOnlyList<ArmResultView> Arms, SampleRatioCheck Srm, long? RequiredImpressionsPerArm, double? Progress)
    {
        public static ExperimentResultView From(ExperimentReport r, DateTime now)
        {
            var e = r.Experiment;
            return new(e.ExperimentId, e.CampaignId, e.Start, e.End, e.Alpha, e.Mde, e.StateAt(now),
                r.Arms.Select((a, i) => ArmResultView.From(a, i == 0)).ToList(), r.SampleRatio, r.RequiredImpressionsPerArm, r.Progress);
        }
    }

    public sealed record AssignmentView(string ExperimentId, string UserId, string CreativeId, int Arm, bool Control, string State);

    private static async Task<Results<Created<ExperimentView>, ProblemHttpResult>> Create(
        ExperimentRequest request, ExperimentStore store, TimeProvider clock, CancellationToken ct)
    {
        if (!QueryTime.TryParse(request.Start, "start", out var start, out var startError)) return Problems.BadRequest(startError!, "The experiment is not valid");
        if (!QueryTime.TryParse(request.End, "end", out var end, out var endError)) return Problems.BadRequest(endError!, "The experiment is not valid");
        var arms = request.Arms?.Select(a => (a?.CreativeId, a?.Weight)).ToList();
        if (Experiment.Check(request.ExperimentId, request.CampaignId, arms, start, end, request.Alpha, request.Mde) is { } error)
            return Problems.BadRequest(error, "The experiment is not valid");
        var experiment = new Experiment(request.ExperimentId!, request.CampaignId!, arms!.Select(a => new ExperimentArm(a.CreativeId!, a.Weight!.Value)).ToList(),
            start!.Value, end, request.Alpha ?? Experiment.DefaultAlpha, request.Mde ?? Experiment.DefaultMde);
        return await store.TryCreateAsync(experiment, ct) is { } created
            ? TypedResults.Created($"/api/v1/experiments/{Uri.EscapeDataString(created.ExperimentId)}", ExperimentView.From(created, clock.GetUtcNow().UtcDateTime))
            : Problems.Conflict($"Experiment '{experiment.ExperimentId}' exists; experiments are not changed once made (create another id).");
    }

    private static async Task<Ok<ExperimentList>> List(ExperimentStore store, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return TypedResults.Ok(new ExperimentList((await store.ListAsync(ct)).Select(e => ExperimentView.From(e, now)).ToList()));
    }

    private static async Task<Results<Ok<ExperimentResultView>, ProblemHttpResult>> Get(
        string experimentId, ExperimentStore store, TimeProvider clock, CancellationToken ct)
    {
        if (await FindAsync(experimentId, store, ct) is not { } experiment) return NotFound(experimentId);
        var report = ExperimentReport.From(experiment, await store.ArmCountsAsync(experiment, ct));
        return TypedResults.Ok(ExperimentResultView.From(report, clock.GetUtcNow().UtcDateTime));
    }

    private static async Task<Results<Ok<AssignmentView>, ProblemHttpResult>> Assignment(
        string experimentId, [FromQuery(Name = "user_id")] string? userId, ExperimentStore store, TimeProvider clock, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(userId)) return Problems.BadRequest("user_id is required");
        if (QueryText.NulError(("user_id", userId)) is { } nul) return Problems.BadRequest(nul);
        if (await FindAsync(experimentId, store, ct) is not { } experiment) return NotFound(experimentId);
        var arm = ArmAssignment.Assign(experiment, userId);
        var index = experiment.Arms.ToList().IndexOf(arm);
        return TypedResults.Ok(new AssignmentView(experiment.ExperimentId, userId, arm.CreativeId, index, index == 0, experiment.StateAt(clock.GetUtcNow().UtcDateTime)));
    }

    /// <summary>An experiment by id; an id no experiment could have (control characters, too long) never reaches SQL.</summary>
    private static async Task<Experiment?> FindAsync(string id, ExperimentStore store, CancellationToken ct) =>
        Experiment.CouldBeId(id) ? await store.GetAsync(id, ct) : null;

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"No experiment '{(id.Length > 40 ? id[..40] + "…" : id)}'.");
}
