using Attribution.Projections.Pipeline;

namespace Attribution.Api.Pipeline;

public static class PipelineEndpoints
{
    public static IEndpointRouteBuilder MapPipeline(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1/pipeline").WithTags("Pipeline")
            .MapGet("/status", Status).WithName("PipelineStatus")
            .WithSummary("Consumer lag per partition, events applied, messages lost by the broker, last apply time");
        return app;
    }

    private static async Task<Microsoft.AspNetCore.Http.HttpResults.Ok<PipelineStatus>> Status(PipelineStatusReader reader, CancellationToken ct) =>
        TypedResults.Ok(await reader.ReadAsync(ct));
}
