using Attribution.Projections.Campaigns;
using Attribution.Projections.EventStore;
using Attribution.Projections.Lakehouse.Export;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Quartz;

namespace Attribution.Projections.Jobs;

public static class MaintenanceJobsServiceCollectionExtensions
{
    /// <summary>
    /// The lakehouse export, event retention, the maintenance jobs and (unless Jobs:Enabled is false) the Quartz
    /// scheduler with its PostgreSQL job store, clustered. Call after AddAttributionStore: the schema migration that
    /// creates the Quartz tables has to run before the scheduler starts.
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
        services.TryAddSingleton<EventRetention>();
        services.TryAddSingleton<JobRunStore>();
        services.TryAddSingleton<MaintenanceJobRunner>();
        services.TryAddSingleton<MaintenanceJobs>();

        // The jobs: one line each. A new job is one more class and one more line like these.
        services.AddMaintenanceJob<ExportBronzeJob>();
        services.AddMaintenanceJob<ExportGoldJob>();
        services.AddMaintenanceJob<CompactJob>();
        services.AddMaintenanceJob<ExpireSnapshotsJob>();
        services.AddMaintenanceJob<RetentionJob>();
        services.TryAddSingleton<CampaignDimension>();
        services.AddMaintenanceJob<Scd2MergeJob>();

        var jobs = configuration.GetSection("Jobs").Get<JobsOptions>() ?? new JobsOptions();
        if (jobs.Enabled) AddScheduler(services, configuration, jobs);
        return services;
    }

    /// <summary>Adds a job to the scheduler, the history and the jobs page.</summary>
    public static IServiceCollection AddMaintenanceJob<TJob>(this IServiceCollection services) where TJob : class, IMaintenanceJob
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IMaintenanceJob, TJob>());
        return services;
    }

    private static void AddScheduler(IServiceCollection services, IConfiguration configuration, JobsOptions jobs)
    {
        var connectionString = configuration.GetConnectionString("Postgres") ?? EngineServiceCollectionExtensions.DefaultConnectionString;
        services.AddQuartz(q =>
        {
            // Every instance on the same database forms one cluster under this name.
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "attribution";
                // Stopping asks running jobs to stop at their next step (a commit in progress completes) and waits for them.
                s.ShutdownJobInterruption = ShutdownJobInterruption.WhenWaitingForJobs;
            });
            q.UseDefaultThreadPool(Math.Max(1, jobs.MaxConcurrency));
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(connectionString);
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(o => o.TablePrefix = "qrtz_");
                store.UseClustering(c => c.CheckinInterval = TimeSpan.FromSeconds(Math.Max(1, jobs.ClusterCheckinSeconds)));
            });
            q.AddJobType<QuartzMaintenanceJob>();
        });
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
        services.AddHostedService<JobScheduleSynchronizer>();
    }
}
