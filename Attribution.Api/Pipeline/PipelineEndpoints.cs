using Attribution.Projections.Ingest;
using Attribution.Projections.Pipeline;

namespace Attribution.Api.Pipeline;

public static class PipelineEndpoints
{
    public static IEndpointRouteBuilder MapPipeline(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/pipeline").WithTags("Pipeline")
            .MapGet("/status", Status).WithName("PipelineStatus")
            .WithSummary("Consumer lag per partition, events applied, messages lost by the broker, last apply time, and this instance's ingest spool");
        return app;
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<PipelineStatus>> Status(
        PipelineStatusReader reader, IServiceProvider services, CancellationToken ct) =>
        TypedResults.Ok(await reader.ReadAsync(ct) with { Spool = services.GetService<SpoolForwarder>()?.State });
}
