using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Attribution.Api.Observability;

/// <summary>Registers the Prometheus exporter.</summary>
public static class PrometheusExporterServiceCollectionExtensions
{
    /// <summary>Adds the collector with default options: meters whose name starts with "Attribution".</summary>
    public static IServiceCollection AddPrometheusExporter(this IServiceCollection services) =>
        services.AddPrometheusExporter(static _ => { });

    /// <summary>Adds the collector, started with the host so measurements taken before the first scrape count.</summary>
    public static IServiceCollection AddPrometheusExporter(this IServiceCollection services, Action<PrometheusExporterOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddMetrics();
        services.Configure(configure);
        services.TryAddSingleton(static sp => new PrometheusCollector(
            sp.GetRequiredService<IOptions<PrometheusExporterOptions>>().Value,
            sp.GetService<IMeterFactory>(),
            sp.GetService<ILogger<PrometheusCollector>>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PrometheusCollectorStarter>());
        return services;
    }
}

/// <summary>Maps the scrape endpoint.</summary>
public static class PrometheusEndpointRouteBuilderExtensions
{
    /// <summary>Serves the collected metrics as <c>text/plain; version=0.0.4; charset=utf-8</c> at <paramref name="path"/>.</summary>
    public static IEndpointRouteBuilder MapPrometheusScrape(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);

        endpoints.MapGet(path, static async context =>
            {
                var collector = context.RequestServices.GetService<PrometheusCollector>()
                    ?? throw new InvalidOperationException("MapPrometheusScrape needs services.AddPrometheusExporter().");
                var text = collector.Collect();
                context.Response.ContentType = PrometheusText.ContentType;
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsync(text, Encoding.UTF8, context.RequestAborted);
            })
            .WithDisplayName("Prometheus scrape")
            .ExcludeFromDescription();
        return endpoints;
    }
}

/// <summary>Resolves the collector when the host starts, so its listener is on before the first request.</summary>
internal sealed class PrometheusCollectorStarter(PrometheusCollector collector) : IHostedService
{
    // Holding the reference is the point: the singleton is created, and starts listening, with the host.
    public PrometheusCollector Collector { get; } = collector;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
