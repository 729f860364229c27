using Attribution.Projections.Campaigns;
using Attribution.Projections.EventStore;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Users;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Jobs;

public static class MaintenanceJobsServiceCollectionExtensions
{
    /// <summary>
    /// The lakehouse export, event retention, the maintenance jobs, Hangfire's storage in its own schema of the
    /// service's database and, unless Jobs:Enabled is false, a Hangfire server that runs them on their schedules.
    /// Call after AddAttributionStore: the storage waits for the database it creates.
    /// </summary>
    public static IServiceCollection AddMaintenanceJobs(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.Configure<LakehouseOptions>(configuration.GetSection("Lakehouse"));
        services.Configure<RetentionOptions>(configuration.GetSection("Retention"));
        services.Configure<JobsOptions>(configuration.GetSection("Jobs"));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new LakehouseCatalog(sp.GetRequiredService<IOptions<LakehouseOptions>>(), sp.GetService<IHostEnvironment>()));
        services.TryAddSingleton<ExportStateStore>();
        services.TryAddSingleton<BronzeExporter>();
        services.TryAddSingleton<GoldExporter>();
        services.TryAddSingleton<CampaignDimensionExporter>();
        services.TryAddSingleton<UserDimensionExporter>();
        services.TryAddSingleton<EventRetention>();
        services.TryAddSingleton<MaintenanceJobRunner>();
        services.TryAddSingleton<MaintenanceJobs>();

        // The jobs: one line each. A new job is one more class and one more line like these.
        services.AddMaintenanceJob<ExportBronzeJob>();
        services.AddMaintenanceJob<ExportGoldJob>();
        services.AddMaintenanceJob<ExportDimsJob>();
        services.AddMaintenanceJob<CompactJob>();
        services.AddMaintenanceJob<ExpireSnapshotsJob>();
        services.AddMaintenanceJob<RetentionJob>();
        services.TryAddSingleton<LandingDomainCache>();
        services.TryAddSingleton<CampaignDimension>();
        services.TryAddSingleton<UserDimension>();
        services.AddMaintenanceJob<Scd2MergeJob>();

        var jobs = configuration.GetSection("Jobs").Get<JobsOptions>() ?? new JobsOptions();
        AddHangfireStorage(services, configuration, jobs);
        if (jobs.Enabled)
        {
            services.AddHangfireServer((_, server) =>
            {
                server.WorkerCount = Math.Max(1, jobs.WorkerCount);
                server.SchedulePollingInterval = TimeSpan.FromSeconds(Math.Max(0.05, jobs.SchedulePollingSeconds));
                // Stopping cancels running jobs at their next step (a commit in progress completes) and waits for them.
                server.ShutdownTimeout = TimeSpan.FromSeconds(30);
            });
            services.AddHostedService<RecurringJobsSynchronizer>();
        }

        return services;
    }

    /// <summary>Adds a job to the recurring jobs, the dashboard and the jobs API.</summary>
    public static IServiceCollection AddMaintenanceJob<TJob>(this IServiceCollection services) where TJob : class, IMaintenanceJob
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMaintenanceJob, TJob>());
        return services;
    }

    /// <summary>
    /// Hangfire keeps its storage and job activator in static fields (JobStorage.Current, JobActivator.Current) that
    /// AddHangfire's configuration sets; every host in a process (the tests start many, each on its own database)
    /// would then share the last one configured. Registering both here first makes each host use its own.
    /// </summary>
    private static void AddHangfireStorage(IServiceCollection services, IConfiguration configuration, JobsOptions jobs)
    {
        var connectionString = configuration.GetConnectionString("Postgres") ?? EngineServiceCollectionExtensions.DefaultConnectionString;
        services.TryAddSingleton<JobStorage>(sp =>
        {
            // The storage creates its schema on construction (the dashboard asks for it while routes are mapped): the
            // database must exist first, and a newcomer's does not until the initializer has created it.
            sp.GetRequiredService<SchemaInitializer>().StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            var options = new PostgreSqlStorageOptions
            {
                SchemaName = jobs.Schema,
                PrepareSchemaIfNecessary = true,
                QueuePollInterval = TimeSpan.FromSeconds(Math.Max(0.05, jobs.QueuePollSeconds)),
                // No LISTEN/NOTIFY long polling: it opens a listening connection for every fetch, and a maintenance run
                // that starts within QueuePollSeconds is soon enough.
                // A job fetched by an instance that was killed becomes visible to the others within minutes.
                UseSlidingInvisibilityTimeout = true,
                InvisibilityTimeout = TimeSpan.FromMinutes(5),
                // Hangfire holds its locks (a row each) for moments; one left by a killed instance would otherwise block
                // scheduling for Hangfire.PostgreSql's default 10 minutes. Our jobs' one-at-a-time lock is not one of
                // these (MaintenanceJobRunner's advisory lock goes with its session).
                DistributedLockTimeout = TimeSpan.FromSeconds(Math.Max(5, jobs.LockTimeoutSeconds)),
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
        });
        services.TryAddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, c) => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HangfireLogging(sp.GetRequiredService<ILoggerFactory>())));
    }
}
