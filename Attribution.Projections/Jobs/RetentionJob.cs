using System.Globalization;
using Attribution.Projections.EventStore;

namespace Attribution.Projections.Jobs;

/// <summary>Retires old, exported impressions from the events table (see <see cref="EventRetention"/>).</summary>
public sealed class RetentionJob(EventRetention retention) : IMaintenanceJob
{
    public string Name => "retention";

    public string Description => "Remove impressions older than Retention:Days from the event store once they are exported (event ids stay for dedup)";

    public string DefaultCron => "40 3 * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        var r = await retention.RunAsync((f, m) => progress.Report(f, m), ct);
        return new JobOutcome(r.Events, 0, r.Skipped ?? string.Create(CultureInfo.InvariantCulture,
            $"{r.Impressions:N0} impressions ({r.Events:N0} events) older than {r.Cutoff:yyyy-MM-dd HH:mm} retired; {r.ScannedEvents:N0} events scanned"));
    }
}
