using System.Text.Json;
using System.Text.Json.Serialization;
using Attribution.Api.Health;
using Attribution.Api.Observability;
using Attribution.Api.Tracking;
using Attribution.Projections;
using Attribution.Projections.Ingest;
using Attribution.Projections.Jobs;
using Attribution.Projections.Analytics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Json;

namespace Attribution.Api.Infrastructure;

public static class ApiSetup
{
    public static WebApplicationBuilder AddAttributionApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
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
        services.AddAttributionHealthChecks(builder.Configuration);
        services.AddPrometheusMetrics(builder.Configuration.GetSection("Observability"));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<Tracking.TrackingIngest>();
        services.AddClickRedirects();
        return builder;
    }

    public static WebApplication UseAttributionApi(this WebApplication app)
    {
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
