using Attribution.Projections;
using Attribution.Projections.Pipeline;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Api.Health;

public static class HealthEndpoints
{
    public static IServiceCollection AddAttributionHealthChecks(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("Postgres") ?? EngineServiceCollectionExtensions.DefaultConnectionString;
        services.AddSingleton(_ => new ReadinessProbe(connectionString));
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<ConsumerHealthCheck>("consumer", tags: ["ready"])
            .AddCheck<SpoolHealthCheck>("spool", tags: ["live", "ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = c => c.Tags.Contains("live") }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") }).WithTags("Health");
        return app;
    }

    /// <summary>
    /// PostgreSQL as readiness sees it: a connection of its own per check, so the answer is about PostgreSQL now (not a
    /// pooled connection that broke with the last outage), with 3 s timeouts instead of Npgsql's 15 s and 30 s, so an
    /// unreachable host answers 503 promptly rather than making the probe time out.
    /// </summary>
    private sealed class ReadinessProbe(string connectionString) : IDisposable
    {
        public NpgsqlDataSource DataSource { get; } = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(connectionString) { Timeout = 3, CommandTimeout = 3, Pooling = false });

        public void Dispose() => DataSource.Dispose();
    }

    private sealed class PostgresHealthCheck(ReadinessProbe probe) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                await using var cmd = probe.DataSource.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not reachable", e);
            }
        }
    }

    /// <summary>A spool whose commit failed refuses every append until the process restarts (FasterLog's rule): not
    /// live, so that an orchestrator restarts it.</summary>
    private sealed class SpoolHealthCheck(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            Task.FromResult(services.GetService<Attribution.Projections.Ingest.EventSpool>()?.FailedBecause is { } failure
                ? HealthCheckResult.Unhealthy($"the ingest spool cannot write: {failure}; restart the service")
                : HealthCheckResult.Healthy());
    }

    private sealed class ConsumerHealthCheck(ConsumerState state, IOptions<KafkaOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            Task.FromResult(!options.Value.RunConsumer || state.Assigned.Length > 0
                ? HealthCheckResult.Healthy($"{state.Assigned.Length} partitions assigned" +
                    (state.WaitingForPostgresSince is { } since ? $", waiting for PostgreSQL since {since:O}" : ""))
                : HealthCheckResult.Unhealthy("the consumer has no partitions assigned yet"));
    }
}
