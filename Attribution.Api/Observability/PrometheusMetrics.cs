using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Attribution.Api.Observability;

/// <summary>Configuration section "Observability".</summary>
public sealed class ObservabilityOptions
{
    /// <summary>Also export the process and .NET runtime metrics: prometheus-net's process collector and .NET's
    /// "System.Runtime" meter (GC heap sizes after the last collection, working set, CPU time, thread pool, exceptions).</summary>
    public bool ExportRuntimeMetrics { get; set; } = true;
}

/// <summary>prometheus-net wired to the host's own <see cref="CollectorRegistry"/>, never to its process-wide default
/// one: collecting that starts a meter adapter on every meter in the process, ASP.NET Core's own included, and every
/// host in a process (the tests', the bench's) would export the others' series.</summary>
public static class PrometheusMetrics
{
    public static IServiceCollection AddPrometheusMetrics(this IServiceCollection services, IConfiguration section)
    {
        services.TryAddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        services.Configure<ObservabilityOptions>(section);
        services.AddHostedService<RuntimeMetricsExport>();
        return services;
    }

    /// <summary>prometheus-net's request count, duration and in-progress series, by endpoint (route template), method
    /// and code. Place it outside the exception handler, so a request that threw is counted with the 500 it ends as.</summary>
    public static IApplicationBuilder UsePrometheusHttpMetrics(this IApplicationBuilder app)
    {
        var registry = app.ApplicationServices.GetRequiredService<CollectorRegistry>();
        // prometheus-net labels the method as the client sent it: any token would become a series of its own.
        app.Use(static (context, next) => StandardMethods.Contains(context.Request.Method)
            ? next(context)
            : Results.StatusCode(StatusCodes.Status405MethodNotAllowed).ExecuteAsync(context));
        return app.UseHttpMetrics(o =>
        {
            o.ConfigureMeasurements(m => m.Registry = registry);
            o.AddCustomLabel("endpoint", RouteTemplate);
        });
    }

    // prometheus-net's own endpoint label, except for a request that threw: the exception handler clears the
    // endpoint before it answers 500, and keeps the one that threw in its feature.
    private static string RouteTemplate(HttpContext context) =>
        (context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint) is RouteEndpoint endpoint
            ? endpoint.RoutePattern.RawText ?? ""
            : "";

    /// <summary>Serves the host's registry in the Prometheus text format (OpenMetrics when the scraper asks for it).</summary>
    public static IEndpointConventionBuilder MapPrometheusScrape(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        var registry = endpoints.ServiceProvider.GetRequiredService<CollectorRegistry>();
        return endpoints.MapMetrics(s => s.Registry = registry, path).ExcludeFromDescription();
    }

    private static readonly HashSet<string> StandardMethods = new(StringComparer.OrdinalIgnoreCase)
    {
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete,
        HttpMethods.Patch, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Connect,
    };
}

/// <summary>Process and runtime metrics for the host's registry, started and stopped with the host.</summary>
internal sealed class RuntimeMetricsExport(CollectorRegistry registry, IOptions<ObservabilityOptions> options) : IHostedService, IDisposable
{
    private IDisposable? _meterAdapter;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.ExportRuntimeMetrics) return Task.CompletedTask;
        DotNetStats.Register(registry);
        _meterAdapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = registry,
            // The default factory is prometheus-net's process-wide one, which would override Registry.
            MetricFactory = null,
            InstrumentFilterPredicate = static i => i.Meter.Name == "System.Runtime",
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _meterAdapter?.Dispose();
}
