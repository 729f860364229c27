using Attribution.Projections;
using Microsoft.AspNetCore.Diagnostics;

namespace Attribution.Api.Infrastructure;

/// <summary>
/// PostgreSQL being away is neither the client's error nor a bug: every endpoint that reads it answers 503
/// ProblemDetails with Retry-After, so clients and load balancers come back later, instead of a 500 with a stack trace
/// in the log per request. Anything else falls through to the default handler (a 500 that gets looked at).
/// </summary>
internal sealed class PostgresUnavailableHandler(IProblemDetailsService problems, ILogger<PostgresUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!PostgresOutage.IsUnavailable(exception)) return false;
        logger.LogWarning("{Method} {Path} answered 503: PostgreSQL is unavailable ({Reason})",
            httpContext.Request.Method, httpContext.Request.Path, PostgresOutage.Describe(exception));
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        Problems.SetRetryAfter(httpContext);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = Problems.PostgresUnavailable(),
        });
    }
}
