namespace Attribution.Api.Cli;

/// <summary>
/// The benchmark's reference point: the pixel's GIF with the pixel's headers, through the same middleware, without
/// validation or Kafka. Mapped only when <c>Bench:BareEndpoint=true</c>, which only the bench verb sets.
/// </summary>
public static class BenchEndpoints
{
    public const string BarePixelPath = "/bench/bare-pixel";

    private static readonly byte[] Gif = Convert.FromBase64String("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    public static IEndpointRouteBuilder MapBenchEndpoints(this IEndpointRouteBuilder app)
    {
        if (!app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue("Bench:BareEndpoint", false)) return app;
        app.MapGet(BarePixelPath, (HttpContext http) =>
        {
            http.Response.Headers.CacheControl = "no-store, no-cache, must-revalidate";
            return TypedResults.File(Gif, "image/gif");
        }).ExcludeFromDescription();
        return app;
    }
}
