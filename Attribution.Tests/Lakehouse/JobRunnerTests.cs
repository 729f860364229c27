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

    public string DefaultCron => "0 0 0 1 1 ? 2099";

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
    public async Task A_second_run_of_a_job_while_one_is_in_progress_is_recorded_as_skipped()
    {
        var hold = new HoldJob();
        await using var host = await LakehouseHost.StartAsync("jobrun", services: s => s.AddSingleton<IMaintenanceJob>(hold));
        var first = host.RunAsync("test-hold");
        await hold.Started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var second = await host.RunAsync("test-hold");
        hold.Release.SetResult();

        Assert.Equal(JobRunStore.Skipped, second.Outcome);
        Assert.Equal(JobRunStore.Succeeded, (await first).Outcome);
        var runs = (await host.Services.GetRequiredService<JobRunStore>().LastRunsAsync(["test-hold"], 10, CancellationToken.None))["test-hold"];
        Assert.Equal([JobRunStore.Succeeded, JobRunStore.Skipped], runs.OrderBy(r => r.Id).Select(r => r.Outcome));
    }

    [Fact]
    public async Task With_the_scheduler_disabled_jobs_and_history_are_listed_and_commands_are_refused()
    {
        await using var host = await LakehouseHost.StartAsync("jobsoff");
        await host.RunOkAsync("export-bronze");
        var jobs = host.Services.GetRequiredService<MaintenanceJobs>();

        var overview = await jobs.ListAsync(5, CancellationToken.None);

        Assert.False(overview.SchedulerEnabled);
        Assert.Equal(["export-bronze", "export-gold", "compact", "expire-snapshots", "retention", "scd2-merge"], overview.Jobs.Select(j => j.Name));
        var bronze = overview.Jobs[0];
        Assert.Equal("0 * * * * ?", bronze.Schedule);
        Assert.Null(bronze.NextRun);
        Assert.Equal("direct", Assert.Single(bronze.LastRuns).Trigger);
        Assert.Equal(JobCommandResult.SchedulerDisabled, await jobs.TriggerAsync("export-bronze", CancellationToken.None));
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
        var exports = 0;
        while (!ingest.All(t => t.IsCompleted))
        {
            await host.RunOkAsync("export-bronze");
            await host.RunOkAsync("export-gold");
            exports++;
        }

        await Task.WhenAll(ingest);
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");

        Assert.True(exports > 1, $"the exports ran {exports} time(s) while ingest was going on");
        var bronze = await ExportExpectations.BronzeAsync(host.DataSource);
        var gold = await ExportExpectations.GoldAsync(host.DataSource);
        Assert.Equal(600 + 120, bronze.Count);
        ExportExpectations.AssertRows(LakehouseTables.Bronze.Schema, bronze,
            NodeReaders.Iceberg(host.Catalog.Open(LakehouseTables.Bronze).LocalPath).GetProperty("rows"), true, "bronze");
        ExportExpectations.AssertRows(LakehouseTables.Gold.Schema, gold,
            NodeReaders.Iceberg(host.Catalog.Open(LakehouseTables.Gold).LocalPath).GetProperty("rows"), true, "gold");
    }
}
