using Attribution.Api.Infrastructure;
using Attribution.Domain.Attribution;
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
        if (AttributionPolicy.Check(change.LookbackDays, change.LateThresholdMinutes) is { } error) return Problems.BadRequest(error);
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
