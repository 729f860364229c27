using Attribution.Projections.Config;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Attribution.Api.Config;

public static class ConfigEndpoints
{
    public static IEndpointRouteBuilder MapAttributionConfig(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/config").WithTags("Config")
            .MapGet("/attribution", Get).WithName("AttributionConfig")
            .WithSummary("The lookback and late threshold applied to events from now on (replay re-derives Gold under them)");
        return app;
    }

    public sealed record AttributionConfigView(double LookbackDays, double LateThresholdMinutes, string Model);

    private static async Task<Ok<AttributionConfigView>> Get(AttributionConfigStore config, CancellationToken ct)
    {
        var p = await config.ReadAsync(ct);
        return TypedResults.Ok(new AttributionConfigView(p.Lookback.TotalDays, p.LateThreshold.TotalMinutes, "last_click"));
    }
}
