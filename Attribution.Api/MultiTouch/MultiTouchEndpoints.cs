using System.Globalization;
using Attribution.Api.Analytics;
using Attribution.Api.Infrastructure;
using Attribution.Domain.MultiTouch;
using Attribution.Projections.Analytics;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.MultiTouch;

/// <summary>User-level multi-touch attribution of Gold's conversions (docs/ATTRIBUTION_MODELS.md).</summary>
public static class MultiTouchEndpoints
{
    public static IEndpointRouteBuilder MapMultiTouch(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/attribution").WithTags("Multi-touch attribution");
        group.MapGet("", Attribute).WithName("MultiTouchAttribution")
            .WithSummary("Revenue and conversions credited per campaign by one model, next to Gold's impression-level last click")
            .WithDescription("model: last_click, first_click, linear, time_decay, position_based or data_driven (Markov removal effect). from/to " +
                             "(required, at most 92 days) bound conversion_time. half_life_hours (time_decay, default 168). Touchpoints are the " +
                             "user's clicks within the lookback of attribution_config, always with the click Gold credited.");
        group.MapGet("/compare", Compare).WithName("MultiTouchCompare")
            .WithSummary("Every model side by side per campaign, with Gold's impression-level last click")
            .WithDescription("from/to (required, at most 92 days) bound conversion_time; half_life_hours as for /attribution.");
        return app;
    }

    public static IReadOnlyList<string> Models { get; } = [.. MultiTouchModels.RuleBased, MultiTouchModels.DataDriven];

    public sealed record CampaignCreditView(string CampaignId, decimal Revenue, decimal Conversions, decimal GoldRevenue, long GoldConversions);

    /// <summary>One model's credit per campaign next to Gold's; removal_effects (data_driven only) are the Markov removal effects.</summary>
    public sealed record AttributionView(
        string Model, DateTime From, DateTime To, double LookbackDays, double? HalfLifeHours, long Conversions, decimal Revenue,
        decimal CreditedRevenue, IReadOnlyList<CampaignCreditView> Campaigns, IReadOnlyDictionary<string, double>? RemovalEffects);

    public sealed record ModelShareView(decimal Revenue, decimal Conversions);

    public sealed record CompareRowView(string CampaignId, IReadOnlyDictionary<string, ModelShareView> Models);

    public sealed record CompareView(
        DateTime From, DateTime To, double LookbackDays, double HalfLifeHours, long Conversions, decimal Revenue,
        IReadOnlyList<string> Models, IReadOnlyList<CompareRowView> Campaigns);

    private static async Task<Results<Ok<AttributionView>, ProblemHttpResult>> Attribute(
        string? model, string? from, string? to, [FromQuery(Name = "half_life_hours")] string? halfLifeHours,
        MultiTouchReport report, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(model) || !Models.Contains(model))
            return Problems.BadRequest($"'model' must be one of {string.Join(", ", Models)}, got '{model}'");
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (TryParseHalfLife(halfLifeHours, out var halfLife) is { } halfLifeError) return Problems.BadRequest(halfLifeError);

        var input = await report.LoadAsync(f, t, withOtherPaths: model == MultiTouchModels.DataDriven, ct);
        MarkovChainModel? fitted = model == MultiTouchModels.DataDriven ? MultiTouchReport.FitDataDriven(input) : null;
        var credit = MultiTouchReport.Credit(input, fitted ?? MultiTouchModels.Create(model, halfLife));
        var gold = MultiTouchReport.GoldCredit(input).Campaigns.ToDictionary(c => c.CampaignId, StringComparer.Ordinal);
        var mine = credit.Campaigns.ToDictionary(c => c.CampaignId, StringComparer.Ordinal);
        var rows = mine.Keys.Union(gold.Keys).Order(StringComparer.Ordinal).Select(c =>
        {
            var m = mine.GetValueOrDefault(c);
            var g = gold.GetValueOrDefault(c);
            return new CampaignCreditView(c, m?.Revenue ?? 0m, m?.Conversions ?? 0m, g?.Revenue ?? 0m, (long)(g?.Conversions ?? 0m));
        }).ToList();
        return TypedResults.Ok(new AttributionView(model, f, t, input.Options.Lookback.TotalDays,
            model == MultiTouchModels.TimeDecay ? halfLife.TotalHours : null,
            input.Conversions.Count, input.Conversions.Sum(c => c.Conversion.Revenue), rows.Sum(r => r.Revenue), rows,
            fitted?.RemovalEffects.ToDictionary(StringComparer.Ordinal)));
    }

    private static async Task<Results<Ok<CompareView>, ProblemHttpResult>> Compare(
        string? from, string? to, [FromQuery(Name = "half_life_hours")] string? halfLifeHours, MultiTouchReport report, CancellationToken ct)
    {
        if (AnalyticsQuery.TryParseRequiredRange(from, to, out var f, out var t) is { } error) return Problems.BadRequest(error);
        if (TryParseHalfLife(halfLifeHours, out var halfLife) is { } halfLifeError) return Problems.BadRequest(halfLifeError);

        var input = await report.LoadAsync(f, t, withOtherPaths: true, ct);
        var credits = new List<ModelCredit> { MultiTouchReport.GoldCredit(input) };
        credits.AddRange(MultiTouchModels.RuleBased.Select(m => MultiTouchReport.Credit(input, MultiTouchModels.Create(m, halfLife))));
        credits.Add(MultiTouchReport.Credit(input, MultiTouchReport.FitDataDriven(input)));
        var campaigns = credits.SelectMany(c => c.Campaigns.Select(s => s.CampaignId)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        var rows = campaigns.Select(c => new CompareRowView(c, credits.ToDictionary(m => m.Model, m =>
        {
            var share = m.Campaigns.FirstOrDefault(s => s.CampaignId == c);
            return new ModelShareView(share?.Revenue ?? 0m, share?.Conversions ?? 0m);
        }, StringComparer.Ordinal))).ToList();
        return TypedResults.Ok(new CompareView(f, t, input.Options.Lookback.TotalDays, halfLife.TotalHours, input.Conversions.Count,
            input.Conversions.Sum(c => c.Conversion.Revenue), credits.Select(c => c.Model).ToList(), rows));
    }

    private static string? TryParseHalfLife(string? text, out TimeSpan halfLife)
    {
        halfLife = TimeDecayModel.DefaultHalfLife;
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var hours) && hours > 0 && hours <= 8760)
        {
            halfLife = TimeSpan.FromHours(hours);
            return null;
        }

        return $"'half_life_hours' must be a number of hours in (0, 8760], got '{text}'";
    }
}
