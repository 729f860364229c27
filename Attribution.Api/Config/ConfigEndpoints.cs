using Attribution.Api.Infrastructure;
using Attribution.Projections.Config;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Attribution.Api.Config;

public static class ConfigEndpoints
{
    public static IEndpointRouteBuilder MapAttributionConfig(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/config").WithTags("Config");
        group.MapGet("/attribution", Get).WithName("AttributionConfig")
            .WithSummary("The lookback and late threshold applied to events from now on (replay re-derives Gold under them)");
        group.MapPut("/attribution", Put).WithName("UpdateAttributionConfig").RequireAdminKey()
            .WithSummary("Changes the lookback and/or late threshold for events applied from now on (needs X-Admin-Key)");
        return app;
    }

    public sealed record AttributionConfigView(double LookbackDays, double LateThresholdMinutes, string Model);

    public sealed record AttributionConfigChange(double? LookbackDays, double? LateThresholdMinutes);

    private static async Task<Results<Ok<AttributionConfigView>, ProblemHttpResult>> Put(
        AttributionConfigChange change, AttributionConfigStore config, CancellationToken ct)
    {
        if (change.LookbackDays is <= 0 or > 366)
            return Problems.BadRequest($"lookback_days must be in (0, 366], got {change.LookbackDays}");
        if (change.LateThresholdMinutes is < 0 or > 525_600)
            return Problems.BadRequest($"late_threshold_minutes must be in [0, 525600], got {change.LateThresholdMinutes}");
        await config.UpdateAsync(change.LookbackDays, change.LateThresholdMinutes, ct);
        return TypedResults.Ok(await ViewAsync(config, ct));
    }

    private static async Task<AttributionConfigView> ViewAsync(AttributionConfigStore config, CancellationToken ct)
    {
        var p = await config.ReadAsync(ct);
        return new AttributionConfigView(p.Lookback.TotalDays, p.LateThreshold.TotalMinutes, "last_click");
    }

    private static async Task<Ok<AttributionConfigView>> Get(AttributionConfigStore config, CancellationToken ct) =>
        TypedResults.Ok(await ViewAsync(config, ct));
}
