using Attribution.Projections.Pipeline;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Api.Health;

public static class HealthEndpoints
{
    public static IServiceCollection AddAttributionHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"])
            .AddCheck<ConsumerHealthCheck>("consumer", tags: ["ready"]);
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/health/ready", new() { Predicate = c => c.Tags.Contains("ready") }).WithTags("Health");
        return app;
    }

    private sealed class PostgresHealthCheck(NpgsqlDataSource db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
        {
            try
            {
                await using var cmd = db.CreateCommand("SELECT 1");
                await cmd.ExecuteScalarAsync(ct);
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                return HealthCheckResult.Unhealthy("PostgreSQL is not reachable", e);
            }
        }
    }

    private sealed class ConsumerHealthCheck(ConsumerState state, IOptions<KafkaOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
            Task.FromResult(!options.Value.RunConsumer || state.Assigned.Length > 0
                ? HealthCheckResult.Healthy($"{state.Assigned.Length} partitions assigned")
                : HealthCheckResult.Unhealthy("the consumer has no partitions assigned yet"));
    }
}
