using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Ingest;

public static class IngestServiceCollectionExtensions
{
    /// <summary>The durable spool the tracking endpoints write to, and the forwarder that produces it to Kafka. Call
    /// after AddAttributionPipeline (it needs the Kafka connection) on every instance that serves tracking.</summary>
    public static IServiceCollection AddAttributionIngest(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<IngestOptions>(configuration.GetSection("Ingest"));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<IngestOptions>>().Value;
            var root = sp.GetService<IHostEnvironment>()?.ContentRootPath ?? AppContext.BaseDirectory;
            return EventSpool.Open(Path.GetFullPath(o.SpoolPath, root), o.SpoolMaxBytes, sp.GetRequiredService<ILogger<EventSpool>>(), o.MaxPendingAppends);
        });
        services.AddSingleton<IngestKeyRing>();
        services.AddSingleton<IngestKeyStore>();
        services.AddHostedService<IngestKeyRefresher>();
        services.AddSingleton<SpoolForwarder>();
        services.AddHostedService(sp => sp.GetRequiredService<SpoolForwarder>());
        return services;
    }
}
