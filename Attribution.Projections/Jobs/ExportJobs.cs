using System.Globalization;
using Attribution.Projections.Lakehouse.Export;

namespace Attribution.Projections.Jobs;

/// <summary>events → bronze.ad_events, appending what arrived since the last export.</summary>
public sealed class ExportBronzeJob(BronzeExporter exporter) : IMaintenanceJob
{
    public string Name => "export-bronze";

    public string Description => "Append events stored since the last export to the Iceberg table bronze.ad_events";

    public string DefaultCron => "* * * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct) =>
        Describe(await exporter.ExportAsync((f, m) => progress.Report(f, m), ct));

    internal static JobOutcome Describe(ExportResult r) => new(r.Rows, r.FilesAdded + r.FilesRemoved, r.Rows == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{r.Table} is up to date ({r.ToMark})")
        : string.Create(CultureInfo.InvariantCulture,
            $"{r.Rows:N0} rows into {r.Table} in {r.Snapshots} snapshot(s) ({r.FromMark + 1}..{r.ToMark}); {r.FilesAdded} files written, {r.FilesRemoved} replaced"));
}

/// <summary>ad_performance_state → gold.ad_performance_state, replacing the rows that changed since the last export.</summary>
public sealed class ExportGoldJob(GoldExporter exporter) : IMaintenanceJob
{
    public string Name => "export-gold";

    public string Description => "Overwrite the Gold rows changed since the last export in the Iceberg table gold.ad_performance_state";

    public string DefaultCron => "30 * * * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct) =>
        ExportBronzeJob.Describe(await exporter.ExportAsync((f, m) => progress.Report(f, m), ct));
}

/// <summary>dim_campaigns and dim_users → dims.dim_campaigns and dims.dim_users, one snapshot per SCD2 merge since the last export.</summary>
public sealed class ExportDimsJob(CampaignDimensionExporter campaigns, UserDimensionExporter users) : IMaintenanceJob
{
    public string Name => "export-dims";

    public string Description => "Export each SCD2 merge of dim_campaigns and dim_users since the last export as one Iceberg snapshot of dims.dim_campaigns / dims.dim_users";

    public string DefaultCron => "45 * * * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        var c = await campaigns.ExportAsync((f, m) => progress.Report(f / 2, m), ct);
        var u = await users.ExportAsync((f, m) => progress.Report(0.5 + f / 2, m), ct);
        var (one, two) = (ExportBronzeJob.Describe(c), ExportBronzeJob.Describe(u));
        return new JobOutcome(one.RowsTouched + two.RowsTouched, one.FilesTouched + two.FilesTouched, $"{one.Summary}; {two.Summary}");
    }
}
