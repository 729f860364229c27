using Attribution.Projections.Audit;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Fraud;
using Marten;
using Attribution.Projections.Gold;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Attribution.Projections.Schema;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Prometheus;

namespace Attribution.Projections;

public static class EngineServiceCollectionExtensions
{
    public const string DefaultConnectionString = "Host=127.0.0.1;Port=55432;Username=postgres;Database=attribution";

    /// <summary>PostgreSQL, the schema, the attribution config and the read models: what every verb needs.</summary>
    public static IServiceCollection AddAttributionStore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres") ?? DefaultConnectionString;
        services.AddSingleton(_ =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            // Every statement of the pipeline and the read API repeats with new parameters: prepared once per
            // connection, PostgreSQL stops parsing and planning them per batch. A connection string can still say otherwise.
            if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            // Rollup queries aggregate ~10^5 rows: enough for PostgreSQL's cost model to JIT-compile them, which
            // costs tens of milliseconds per query for nothing gained at this size. And a prepared statement is
            // planned for its parameters every time: after five runs PostgreSQL may switch to a generic plan that
            // cannot see how narrow a time range is (the wide metrics query: 17 ms custom, 30 ms generic), while
            // planning the pipeline's statements costs microseconds. Options in the string still win.
            if (string.IsNullOrEmpty(builder.ConnectionStringBuilder.Options))
                builder.ConnectionStringBuilder.Options = "-c jit=off -c plan_cache_mode=force_custom_plan";
            return builder.Build();
        });
        // The event store: Marten's, on the same data source.
        services.AddMarten(sp =>
        {
            var options = new StoreOptions();
            MartenSetup.Configure(options, sp.GetRequiredService<NpgsqlDataSource>());
            return options;
        });
        services.AddSingleton<EventStoreWriter>();
        services.AddSingleton<ImpressionHistory>();
        services.Configure<AttributionOptions>(configuration.GetSection("Attribution"));
        services.AddSingleton<AttributionConfigStore>();
        services.Configure<FraudOptions>(configuration.GetSection("Fraud"));
        services.AddSingleton<FraudSettingsStore>();
        services.AddSingleton<GoldQueries>();
        services.AddSingleton<AuditQueries>();
        services.AddSingleton<GoldRebuilder>();
        services.AddSingleton(sp => new SchemaInitializer(connectionString, sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<AttributionConfigStore>(), sp.GetRequiredService<IOptions<AttributionOptions>>().Value,
            sp.GetRequiredService<FraudSettingsStore>(), sp.GetRequiredService<IOptions<FraudOptions>>().Value,
            sp.GetRequiredService<ILogger<SchemaInitializer>>()));
        services.AddHostedService(sp => sp.GetRequiredService<SchemaInitializer>());
        return services;
    }

    /// <summary>Kafka, the producer, the consumer pipeline and its status.</summary>
    public static IServiceCollection AddAttributionPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<KafkaOptions>(configuration.GetSection("Kafka"));
        // One registry per host: each service (and each test or bench host in one process) exports only its own series.
        services.TryAddSingleton(_ => Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new PipelineMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton(sp => new JobMetrics(sp.GetRequiredService<CollectorRegistry>()));
        services.AddSingleton<KafkaConnection>();
        services.AddSingleton<ConsumerState>();
        services.AddSingleton<BatchApplier>();
        services.AddSingleton<PipelineStatusReader>();
        if (configuration.GetSection("Kafka").GetValue("RunConsumer", true))
        {
            services.AddHostedService<AttributionConsumer>();
        }

        return services;
    }
}

/// <summary>Creates the database, applies migrations and seeds the attribution config and the fraud rules before anything else starts.</summary>
public sealed class SchemaInitializer(
    string connectionString,
    NpgsqlDataSource dataSource,
    AttributionConfigStore config,
    AttributionOptions options,
    FraudSettingsStore fraud,
    FraudOptions fraudOptions,
    ILogger<SchemaInitializer> logger) : IHostedService
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private bool _done;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _once.WaitAsync(cancellationToken);
        try
        {
            if (_done) return;
            await SchemaMigrator.EnsureDatabaseAsync(connectionString, cancellationToken);
            await SchemaMigrator.MigrateAsync(dataSource, logger, cancellationToken);
            await config.SeedAsync(options, cancellationToken);
            await fraud.SeedAsync(fraudOptions, cancellationToken);
            _done = true;
        }
        finally
        {
            _once.Release();
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
