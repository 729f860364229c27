using System.Text;
using System.Text.Json.Nodes;
using Attribution.Projections.Pipeline;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>The whole service (Program) in memory on a database of its own, with the consumer off: tests put events in
/// through the batch applier, exactly as the consumer would, and call the HTTP API.</summary>
public sealed class ApiFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key";
    private long _offset;

    public string ConnectionString { get; } = TestPostgres.NewDatabase("api");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // UseSetting reaches the configuration the service reads while it registers services.
        builder.UseSetting("ConnectionStrings:Postgres", ConnectionString);
        builder.UseSetting("Kafka:BootstrapServers", TestKafka.BootstrapServers);
        builder.UseSetting("Kafka:Topic", $"t-{Guid.NewGuid():N}");
        builder.UseSetting("Kafka:RunConsumer", "false");
        builder.UseSetting("Admin:ApiKey", AdminKey);
        builder.UseEnvironment("Production");
    }

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Applies wire events as one Kafka batch would be applied.</summary>
    public Task<BatchResult> ApplyAsync(IEnumerable<JsonObject> events) =>
        Services.GetRequiredService<BatchApplier>().ApplyAsync("g", "t", "cluster-1", events.Select(e =>
            new KafkaRecord(0, Interlocked.Increment(ref _offset), null, Encoding.UTF8.GetBytes(e.ToJsonString()), Scenario.T0)).ToList(),
            CancellationToken.None);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) TestPostgres.Drop(ConnectionString);
    }
}
