using System.Text.Json;
using System.Text.Json.Serialization;
using Attribution.Api.Health;
using Attribution.Api.Observability;
using Attribution.Api.Tracking;
using Attribution.Projections;
using Attribution.Projections.Ingest;
using Attribution.Projections.Jobs;
using Attribution.Projections.Analytics;
using Attribution.Projections.Billing;
using Attribution.Projections.Experiments;
using Attribution.Projections.Fraud;
using Attribution.Projections.Replays;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;

namespace Attribution.Api.Infrastructure;

public static class ApiSetup
{
    public static WebApplicationBuilder AddAttributionApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Whatever the configuration says: ASP.NET Core's request lines hold query strings (user ids, click
        // signatures), and logs hold those only as hashes (docs/SECURITY.md).
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        services.AddProblemDetails();
        services.AddExceptionHandler<PostgresUnavailableHandler>();
        // The Hangfire dashboard checks an antiforgery token on its actions (trigger, delete, requeue) when one is set up.
        services.AddAntiforgery();
        services.Configure<JsonOptions>(o => Configure(o.SerializerOptions));
        services.Configure<TrackingOptions>(builder.Configuration.GetSection("Tracking"));
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new() { Title = "Attribution API", Version = "v1",
                Description = "Ad click tracking and last-click attribution: pixel, click redirect, postbacks, Gold state and metrics." });
            var xml = Path.Combine(AppContext.BaseDirectory, "Attribution.Api.xml");
            if (File.Exists(xml)) o.IncludeXmlComments(xml);
        });
        services.AddAttributionStore(builder.Configuration);
        services.AddAttributionPipeline(builder.Configuration);
        services.AddAttributionIngest(builder.Configuration);
        services.AddMaintenanceJobs(builder.Configuration);
        services.AddAttributionAnalytics();
        services.AddWhatIfReplays();
        services.AddExperiments();
        services.AddFraudReports();
        services.AddBilling();
        services.AddAttributionHealthChecks(builder.Configuration);
        services.AddPrometheusMetrics(builder.Configuration.GetSection("Observability"));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Tracking.TrackingIngest>();
        services.AddTrustedProxies(builder.Configuration);
        services.AddAttributionRateLimits(builder.Configuration);
        builder.WebHost.ConfigureKestrel(o => SetLimits(o.Limits, builder.Configuration));
        services.AddClickRedirects();
        return builder;
    }

    /// <summary>What one request may send: a body up to Tracking:MaxBodyBytes (a batch), and headers of an ordinary
    /// client's size; more is refused by Kestrel (413, 431) before any of our code runs.</summary>
    private static void SetLimits(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerLimits limits, IConfiguration configuration)
    {
        limits.MaxRequestBodySize = configuration.GetSection("Tracking").Get<TrackingOptions>()?.MaxBodyBytes ?? new TrackingOptions().MaxBodyBytes;
        limits.MaxRequestHeadersTotalSize = 32 * 1024;
        limits.MaxRequestHeaderCount = 64;
        limits.MaxRequestLineSize = 8 * 1024;
    }

    public static WebApplication UseAttributionApi(this WebApplication app)
    {
        // First: everything after it (limits, metrics, logs) sees the client's address, not the proxy's.
        app.UseForwardedHeaders();
        app.UseSecurityHeaders();
        app.UsePrometheusHttpMetrics();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A malformed request (bad JSON, a body too large) is the client's error, never a 500; PostgreSQL being
            // away is a 503 (PostgresUnavailableHandler writes it, with Retry-After).
            StatusCodeSelector = e => e switch
            {
                BadHttpRequestException b => b.StatusCode,
                _ when PostgresOutage.IsUnavailable(e) => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },
            // A client's malformed request is logged by nobody as an error: only our own failures are.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages();
        app.UseAttributionRateLimits();
        app.UseSwagger();
        app.UseSwaggerUI(o => o.DocumentTitle = "Attribution API");
        return app;
    }

    public static JsonSerializerOptions Configure(JsonSerializerOptions o)
    {
        o.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        o.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper));
        o.Converters.Add(new MoneyJsonConverter());
        o.Converters.Add(new UtcDateTimeOffsetJsonConverter());
        return o;
    }
}

/// <summary>Configuration section "Tracking".</summary>
public sealed class TrackingOptions
{
    /// <summary>Largest accepted body of a batch or postback; larger bodies get 413.</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest number of events in one batch.</summary>
    public int MaxBatchEvents { get; set; } = 50_000;
}
