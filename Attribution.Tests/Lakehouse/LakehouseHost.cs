using System.Text;
using System.Text.Json.Nodes;
using Attribution.Projections;
using Attribution.Projections.Jobs;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Tests.Lakehouse;

/// <summary>
/// The engine with the maintenance services but without the scheduler or the consumer: events go in through the
/// batch applier, jobs run through the runner Hangfire calls, so each test drives every step itself. A database and a warehouse
/// folder of its own.
/// </summary>
/// <summary>How one direct run of a job ended.</summary>
internal sealed record DirectRun(string Outcome, long RowsTouched, long FilesTouched, string? Summary, string? Error);

internal sealed class LakehouseHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _connectionString;
    private readonly TempDirectory _warehouse;
    private long _offset;

    private LakehouseHost(IHost host, string connectionString, TempDirectory warehouse)
    {
        _host = host;
        _connectionString = connectionString;
        _warehouse = warehouse;
    }

    public IServiceProvider Services => _host.Services;

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    public LakehouseCatalog Catalog => Services.GetRequiredService<LakehouseCatalog>();

    public MaintenanceJobRunner Runner => Services.GetRequiredService<MaintenanceJobRunner>();

    public string Warehouse => _warehouse.Path;

    public static async Task<LakehouseHost> StartAsync(string prefix, IDictionary<string, string?>? extra = null,
        Action<IServiceCollection>? services = null)
    {
        var connectionString = TestPostgres.NewDatabase(prefix);
        var warehouse = new TempDirectory();
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(EngineHost.Settings(connectionString, "unused"));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:RunConsumer"] = "false",
            ["Jobs:Enabled"] = "false",
            ["Jobs:ProgressIntervalSeconds"] = "0.1",
            ["Lakehouse:WarehousePath"] = warehouse.Path,
        });
        if (extra is not null) builder.Configuration.AddInMemoryCollection(extra);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAttributionStore(builder.Configuration);
        builder.Services.AddAttributionPipeline(builder.Configuration);
        builder.Services.AddMaintenanceJobs(builder.Configuration);
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new LakehouseHost(host, connectionString, warehouse);
    }

    public Task<BatchResult> ApplyAsync(params JsonObject[] events) => ApplyAsync(0, events);

    /// <summary>One batch as if read from one Kafka partition; batches of different partitions may run concurrently.</summary>
    public Task<BatchResult> ApplyAsync(int partition, params JsonObject[] events)
    {
        var records = events.Select(e => new KafkaRecord(partition, Interlocked.Increment(ref _offset), null,
            Encoding.UTF8.GetBytes(e.ToJsonString()), Scenario.T0)).ToList();
        return Services.GetRequiredService<BatchApplier>().ApplyAsync("g", "t", "cluster-1", records, CancellationToken.None);
    }

    /// <summary>Runs a job through the runner Hangfire calls, as one attempt: a thrown error is a failed run.</summary>
    public async Task<DirectRun> RunAsync(string job)
    {
        try
        {
            var outcome = await Runner.RunAsync(job, null, CancellationToken.None);
            return new DirectRun(outcome.Skipped ? MaintenanceJobs.Skipped : MaintenanceJobs.Succeeded, outcome.RowsTouched, outcome.FilesTouched, outcome.Summary, null);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            return new DirectRun(MaintenanceJobs.Failed, 0, 0, null, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Runs a job and fails the test with the job's own error when it did not succeed.</summary>
    public async Task<DirectRun> RunOkAsync(string job)
    {
        var run = await RunAsync(job);
        Assert.True(run.Outcome == MaintenanceJobs.Succeeded, $"{job}: {run.Outcome} {run.Error}");
        return run;
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        TestPostgres.Drop(_connectionString);
        _warehouse.Dispose();
    }
}
