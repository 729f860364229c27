using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Attribution.Api.Observability;

/// <summary>Adds HTTP request metrics to the pipeline.</summary>
public static class HttpMetricsApplicationBuilderExtensions
{
    /// <summary>
    /// Counts requests (<c>http_server_requests_total</c>) and times them (<c>http_server_request_duration_seconds</c>)
    /// by route template, method and status. Place it early so the time covers the rest of the pipeline; the route
    /// is read after the request, so it may come before or after routing.
    /// </summary>
    public static IApplicationBuilder UseHttpMetrics(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.UseMiddleware<HttpMetricsMiddleware>();
    }
}

/// <summary>Records one counter increment and one duration per request.</summary>
internal sealed class HttpMetricsMiddleware
{
    public const string MeterName = "Attribution.Api.Http";
    public const string UnmatchedRoute = "unmatched";
    public const string OtherMethod = "_OTHER";

    private readonly RequestDelegate _next;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public HttpMetricsMiddleware(RequestDelegate next, IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _next = next;
        // Created through the host's factory so each host (and each test server) exposes only its own requests.
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("http.server.requests", "{request}", "HTTP requests handled, by route template, method and status.");
        _duration = meter.CreateHistogram(
            "http.server.request.duration",
            "s",
            "Time to handle an HTTP request, by route template, method and status.",
            tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = HistogramBuckets.Seconds });
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            await _next(context);
            failed = false;
        }
        finally
        {
            // An exception that escapes before the response starts ends as a 500 from the server.
            var status = failed && !context.Response.HasStarted
                ? StatusCodes.Status500InternalServerError
                : context.Response.StatusCode;
            var tags = new TagList
            {
                { "route", Route(context) },
                { "method", Method(context.Request.Method) },
                { "status", status },
            };
            _requests.Add(1, tags);
            _duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        }
    }

    // Design rule "label by route template": never the raw path, whose ids would make a series per request.
    private static string Route(HttpContext context) =>
        context.GetEndpoint() is RouteEndpoint endpoint && endpoint.RoutePattern.RawText is { } template
            ? template
            : UnmatchedRoute;

    // Any client can send any method token; only the standard ones become label values.
    private static string Method(string method) =>
        HttpMethods.IsGet(method) ? HttpMethods.Get
        : HttpMethods.IsPost(method) ? HttpMethods.Post
        : HttpMethods.IsPut(method) ? HttpMethods.Put
        : HttpMethods.IsDelete(method) ? HttpMethods.Delete
        : HttpMethods.IsPatch(method) ? HttpMethods.Patch
        : HttpMethods.IsHead(method) ? HttpMethods.Head
        : HttpMethods.IsOptions(method) ? HttpMethods.Options
        : HttpMethods.IsTrace(method) ? HttpMethods.Trace
        : HttpMethods.IsConnect(method) ? HttpMethods.Connect
        : OtherMethod;
}
