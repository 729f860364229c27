using System.Globalization;
using Attribution.Projections.Campaigns;

namespace Attribution.Projections.Jobs;

/// <summary>Applies the staged campaign changes (POST /api/v1/campaigns:batch) as one SCD type 2 merge: the design's
/// scheduled dimension batch job.</summary>
public sealed class Scd2MergeJob(CampaignDimension campaigns) : IMaintenanceJob
{
    public string Name => "scd2-merge";

    public string Description => "Merge staged campaign changes into dim_campaigns (SCD type 2: close the current version, open the new one)";

    public string DefaultCron => "*/5 * * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        progress.Report(0, "merging staged campaign changes");
        var counts = await campaigns.MergeStagedAsync(ct);
        return new JobOutcome(counts.Opened + counts.Closed + counts.Corrected, 0, string.Create(CultureInfo.InvariantCulture,
            $"{counts.Staged} staged: {counts.Opened} opened, {counts.Closed} closed, {counts.Corrected} corrected, {counts.Rejected} rejected"));
    }
}
