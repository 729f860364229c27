using Attribution.Projections.Jobs;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Lakehouse;

/// <summary>A job that waits until released, to hold a run open.</summary>
internal sealed class HoldJob : IMaintenanceJob
{
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Name => "test-hold";

    public string Description => "Holds a run open";

    public string DefaultCron => "0 0 29 2 *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        Started.TrySetResult();
        await Release.Task.WaitAsync(ct);
        return new JobOutcome(1, 0, "released");
    }
}

public sealed class JobRunnerTests
{
    [Fact]
    public async Task A_second_run_of_a_job_while_one_is_in_progress_is_skipped_and_the_first_completes()
    {
        var hold = new HoldJob();
        await using var host = await LakehouseHost.StartAsync("jobrun", services: s => s.AddSingleton<IMaintenanceJob>(hold));
        var first = host.RunAsync("test-hold");
        await hold.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var second = await host.RunAsync("test-hold");
        hold.Release.SetResult();

        Assert.Equal(MaintenanceJobs.Skipped, second.Outcome);
        Assert.Equal("skipped: another run of this job was in progress", second.Summary);
        var done = await first;
        Assert.Equal(MaintenanceJobs.Succeeded, done.Outcome);
        Assert.Equal("released", done.Summary);
        // The lock went with the first run: the next one runs.
        var third = host.RunAsync("test-hold");
        Assert.Equal(MaintenanceJobs.Succeeded, (await third).Outcome);
    }

    [Fact]
    public async Task Without_a_job_server_jobs_are_listed_with_their_configured_schedules_and_a_run_is_refused()
    {
        await using var host = await LakehouseHost.StartAsync("jobsoff",
            new Dictionary<string, string?> { ["Jobs:Schedules:compact"] = "*/10 * * * *" });
        var jobs = host.Services.GetRequiredService<MaintenanceJobs>();

        var overview = await jobs.ListAsync(5, CancellationToken.None);

        Assert.False(overview.SchedulerEnabled);
        Assert.Empty(overview.Servers);
        Assert.Equal(["export-bronze", "export-gold", "export-dims", "compact", "expire-snapshots", "retention", "scd2-merge"], overview.Jobs.Select(j => j.Name));
        Assert.Equal(["* * * * *", "30 * * * * *", "45 * * * * *", "*/10 * * * *", "20 3 * * *", "40 3 * * *", "*/5 * * * *"], overview.Jobs.Select(j => j.Schedule));
        Assert.All(overview.Jobs, j => Assert.Equal("not_scheduled", j.State));
        Assert.All(overview.Jobs, j => Assert.Null(j.NextRun));
        Assert.Equal(JobCommandResult.NoServer, await jobs.TriggerAsync("export-bronze", CancellationToken.None));
        Assert.Equal(JobCommandResult.UnknownJob, await jobs.TriggerAsync("nope", CancellationToken.None));
        Assert.Equal(JobCommandResult.UnknownJob, await jobs.PauseAsync("nope", CancellationToken.None));
    }

    [Fact]
    public async Task Exports_running_beside_concurrent_ingest_miss_no_row_and_repeat_none()
    {
        await using var host = await LakehouseHost.StartAsync("exportrace");
        var ingest = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var b = 0; b < 15; b++)
            {
                var from = (p * 15 + b) * 10;
                await host.ApplyAsync(p, [.. LakehouseExportTests.Impressions(from, 10), .. LakehouseExportTests.Clicks([from, from + 3])]);
            }
        })).ToArray();
        // Exports keep running until every ingest task is done; each round starts while batches are being applied.
        do
        {
            await host.RunOkAsync("export-bronze");
            await host.RunOkAsync("export-gold");
        }
        while (!ingest.All(t => t.IsCompleted));

        await Task.WhenAll(ingest);
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");

        var bronze = await ExportExpectations.BronzeAsync(host.DataSource);
        var gold = await ExportExpectations.GoldAsync(host.DataSource);
        Assert.Equal(600 + 120, bronze.Count);
        ExportExpectations.AssertRows(LakehouseTables.Bronze.Schema, bronze,
            NodeReaders.Iceberg(host.Catalog.Open(LakehouseTables.Bronze).LocalPath).GetProperty("rows"), true, "bronze");
        ExportExpectations.AssertRows(LakehouseTables.Gold.Schema, gold,
            NodeReaders.Iceberg(host.Catalog.Open(LakehouseTables.Gold).LocalPath).GetProperty("rows"), true, "gold");
    }
}
