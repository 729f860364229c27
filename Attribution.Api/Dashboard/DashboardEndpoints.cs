using Microsoft.Extensions.FileProviders;

namespace Attribution.Api.Dashboard;

/// <summary>The dashboard: static files under /dashboard/ (charts by uPlot, which the build fetches from npm), and / sends people there.</summary>
public static class DashboardEndpoints
{
    public const string Path = "/dashboard";

    public static WebApplication MapDashboard(this WebApplication app)
    {
        // The build copies wwwroot next to the binaries, so the page is found whatever the working directory.
        var folder = new[] { app.Environment.WebRootPath, System.IO.Path.Combine(AppContext.BaseDirectory, "wwwroot") }
            .Where(p => !string.IsNullOrEmpty(p))
            .Select(p => System.IO.Path.Combine(p!, "dashboard"))
            .FirstOrDefault(Directory.Exists)
            ?? throw new DirectoryNotFoundException("wwwroot/dashboard is missing next to the binaries and in the web root");
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = Path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = Path,
            OnPrepareResponse = c => c.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapGet("/", () => TypedResults.Redirect(Path + "/")).ExcludeFromDescription();
        return app;
    }
}
