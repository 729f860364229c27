namespace Attribution.Api.Infrastructure;

/// <summary>Headers every answer carries: no MIME sniffing anywhere, no Referer leaking the click URL (its signature,
/// the impression) to the advertiser's landing page, and a Content-Security-Policy on our HTML pages (the dashboard,
/// Swagger UI, Hangfire's dashboard) that lets them load nothing from elsewhere.</summary>
public static class SecurityHeaders
{
    // Swagger UI and Hangfire's pages use inline scripts and styles; nothing may come from another origin or frame us.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

    public static WebApplication UseSecurityHeaders(this WebApplication app)
    {
        app.Use((http, next) =>
        {
            // On starting: the exception handler clears headers set before it writes its ProblemDetails. A static
            // callback with the context as its state: no closure per request on the pixel's path.
            http.Response.OnStarting(SetHeaders, http);
            return next(http);
        });
        return app;
    }

    private static Task SetHeaders(object state)
    {
        var response = ((HttpContext)state).Response;
        var headers = response.Headers;
        headers.XContentTypeOptions = "nosniff";
        if (response.StatusCode is >= 300 and < 400) headers["Referrer-Policy"] = "no-referrer";
        if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
        }

        return Task.CompletedTask;
    }
}
