using Quartz;

namespace Attribution.Projections.Jobs;

/// <summary>
/// The one Quartz job class: every maintenance job is stored under its own key (group <see cref="Group"/>) and this
/// class runs the <see cref="IMaintenanceJob"/> of that name through the runner, which keeps the history.
/// </summary>
internal sealed class QuartzMaintenanceJob(MaintenanceJobRunner runner) : IJob
{
    public const string Group = "maintenance";

    /// <summary>Job data naming how a run was started; scheduled fires carry none.</summary>
    public const string TriggerKindKey = "trigger-kind";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken = default)
    {
        var name = context.JobDetail.Key.Name;
        if (runner.Find(name) is null) return; // A job removed from the code; the synchronizer deletes it on start.
        var kind = context.MergedJobDataMap.TryGetValue(TriggerKindKey, out var value) && value is string s ? s
            : context.Recovering ? "recovery" : "schedule";
        var run = await runner.RunAsync(name, kind, cancellationToken);
        context.Result = run.Outcome;
    }
}
