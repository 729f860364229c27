using System.Security.Cryptography;
using System.Text;
using Attribution.Api.Infrastructure;
using Attribution.Projections.Jobs;
using Hangfire;
using Hangfire.Dashboard;

namespace Attribution.Api.Jobs;

/// <summary>The Hangfire dashboard at <c>/hangfire</c>, for the admin key only.</summary>
public static class JobsDashboard
{
    public static IEndpointRouteBuilder MapJobsDashboard(this IEndpointRouteBuilder app)
    {
        var storage = app.ServiceProvider.GetRequiredService<JobStorage>();
        var configuration = app.ServiceProvider.GetRequiredService<IConfiguration>();
        app.MapHangfireDashboard(MaintenanceJobs.DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Attribution jobs",
            // "Back to site" leads to our own dashboard.
            AppPath = "/",
            DisplayStorageConnectionString = false,
            Authorization = [new AdminKeyDashboardFilter(configuration)],
        }, storage).WithMetadata(RequiresCredentials.Instance);
        // The jobs page of earlier versions: bookmarks land on the recurring jobs.
        app.MapGet("/jobs", () => TypedResults.Redirect($"{MaintenanceJobs.DashboardPath}/recurring")).ExcludeFromDescription();
        return app;
    }
}

/// <summary>
/// Admits a request that carries the admin key: the X-Admin-Key header (scripts), or <c>?key=</c> once in a browser,
/// which leaves an HttpOnly, SameSite=Strict cookie for the dashboard's own links and actions. The cookie holds a
/// hash of the key, never the key. Anything else gets 401, as does everyone while Admin:ApiKey is unset.
/// </summary>
internal sealed class AdminKeyDashboardFilter(IConfiguration configuration) : IDashboardAuthorizationFilter
{
    public const string Cookie = "attribution_dashboard";
    public const string QueryKey = "key";

    public bool Authorize(DashboardContext context)
    {
        var http = context.GetHttpContext();
        var configured = configuration["Admin:ApiKey"];
        if (string.IsNullOrEmpty(configured)) return false;
        if (AdminKey.Matches(http.Request.Headers[AdminKey.Header], configured)) return true;
        var token = Token(configured);
        if (AdminKey.Matches(http.Request.Query[QueryKey], configured))
        {
            http.Response.Cookies.Append(Cookie, token, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = http.Request.IsHttps,
                Path = MaintenanceJobs.DashboardPath,
            });
            return true;
        }

        return AdminKey.Matches(http.Request.Cookies[Cookie], token);
    }

    private static string Token(string key) =>
        Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), "attribution hangfire dashboard"u8));
}
