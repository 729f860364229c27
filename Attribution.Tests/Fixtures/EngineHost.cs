using Attribution.Projections;
using Attribution.Projections.Pipeline;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>The engine without the web front: schema, consumer and pipeline, wired exactly as the service wires them.</summary>
public sealed class EngineHost : IAsyncDisposable
{
    private readonly IHost _host;

    private EngineHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    public static Dictionary<string, string?> Settings(string connectionString, string topic, string? group = null) => new()
    {
        ["ConnectionStrings:Postgres"] = connectionString,
        ["Kafka:BootstrapServers"] = TestKafka.BootstrapServers,
        ["Kafka:Topic"] = topic,
        // A group of its own per test: a shared group would make every test wait for the others' rebalances.
        ["Kafka:ConsumerGroup"] = group ?? $"g-{Guid.NewGuid():N}",
        ["Kafka:SessionTimeoutMs"] = "6000",
        ["Kafka:MaxBatchSize"] = "2000",
    };

    public static async Task<EngineHost> StartAsync(IDictionary<string, string?> settings, bool runConsumer = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration["Kafka:RunConsumer"] = runConsumer ? "true" : "false";
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss.fff ").SetMinimumLevel(LogLevel.Information);
        builder.Services.AddAttributionStore(builder.Configuration);
        builder.Services.AddAttributionPipeline(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return new EngineHost(host);
    }

    /// <summary>Creates and migrates a database through the same initializer the service runs.</summary>
    public static async Task<NpgsqlDataSource> MigrateAsync(string connectionString)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:Postgres"] = connectionString;
        builder.Logging.ClearProviders();
        builder.Services.AddAttributionStore(builder.Configuration);
        using var host = builder.Build();
        await host.Services.GetRequiredService<SchemaInitializer>().StartAsync(CancellationToken.None);
        return NpgsqlDataSource.Create(connectionString);
    }

    /// <summary>Waits until every message of the topic is applied (lag 0 and the expected count of events).</summary>
    public Task<PipelineStatus> WaitForDrainAsync(long expectedEvents, TimeSpan? timeout = null) =>
        Drain.WaitAsync(Services.GetRequiredService<PipelineStatusReader>(), expectedEvents, timeout);

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
