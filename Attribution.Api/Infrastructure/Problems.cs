using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Attribution.Api.Infrastructure;

/// <summary>RFC 7807 answers that say what is wrong.</summary>
public static class Problems
{
    public static ProblemHttpResult BadRequest(string detail, string title = "The request is not valid") =>
        TypedResults.Problem(new ProblemDetails { Status = 400, Title = title, Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.1" });

    /// <summary>A request that does not say who sent it, or not believably.</summary>
    public static ProblemHttpResult Unauthorized(HttpContext http, string title, string detail, string scheme)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.WWWAuthenticate = scheme;
        return TypedResults.Problem(new ProblemDetails { Status = 401, Title = title, Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2" });
    }

    public static ProblemHttpResult Conflict(string detail, string title = "Conflict") =>
        TypedResults.Problem(new ProblemDetails { Status = 409, Title = title, Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.10" });

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = 404, Title = "Not found", Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.5" });

    public static ProblemHttpResult Gone(string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = 410, Title = "No longer here", Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.11" });

    /// <summary>The service is not set up to do this: asking again changes nothing until an operator configures it.</summary>
    public static ProblemHttpResult NotConfigured(string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = 503, Title = "Not configured", Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4" });

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(new ProblemDetails { Status = 413, Title = "Request body too large",
            Detail = $"The body is larger than {limit} bytes (Tracking:MaxBodyBytes).", Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.14" });

    /// <summary>Nothing was stored: the client should send again, after the seconds Retry-After says.</summary>
    public static ProblemHttpResult Unavailable(HttpContext http, string detail)
    {
        SetRetryAfter(http);
        return TypedResults.Problem(new ProblemDetails { Status = 503, Title = "The events could not be stored", Detail = detail,
            Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4" });
    }

    /// <summary>A read that needs PostgreSQL while it is away: nothing is wrong with the request, ask again later.</summary>
    public static ProblemDetails PostgresUnavailable() =>
        new() { Status = 503, Title = "Service unavailable", Detail = "PostgreSQL is unavailable; try again.",
            Type = "https://www.rfc-editor.org/rfc/rfc9110#section-15.6.4" };

    /// <summary>When a 503's client should try again: a few seconds, about what the spool or PostgreSQL need.</summary>
    public static void SetRetryAfter(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.RetryAfter = "5";
    }
}
