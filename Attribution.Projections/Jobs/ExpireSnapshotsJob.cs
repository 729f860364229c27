using System.Globalization;
using Attribution.Projections.Lakehouse.Export;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Expires snapshots older than Lakehouse:SnapshotRetentionDays (keeping the newest Lakehouse:RetainLastSnapshots),
/// then deletes what no remaining snapshot references: the expiry commit comes first and files go only after it,
/// so a crash leaves orphans, never a snapshot without its files. Orphans of interrupted commits are swept once
/// older than Lakehouse:OrphanFileMinAgeMinutes, so files of a commit in flight elsewhere are never touched.
/// </summary>
public sealed class ExpireSnapshotsJob(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, IOptions<LakehouseOptions> options, TimeProvider clock) : IMaintenanceJob
{
    public string Name => "expire-snapshots";

    public string Description => "Expire old snapshots of both tables and delete the files no kept snapshot references";

    public string DefaultCron => "20 3 * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        var o = options.Value;
        var now = clock.GetUtcNow();
        long files = 0;
        var notes = new List<string>();
        var tables = LakehouseTables.Exported;
        for (var i = 0; i < tables.Count; i++)
        {
            var definition = tables[i];
            progress.Report((double)i / tables.Count, $"expiring {definition.QualifiedName}");
            if (!catalog.ListTables().Contains(definition.QualifiedName)) continue;
            await using var tableLock = await LakehouseLocks.AcquireAsync(dataSource, definition.QualifiedName, ct);
            var table = catalog.Open(definition);
            table.Refresh();
            var expired = table.ExpireSnapshots(now - TimeSpan.FromDays(o.SnapshotRetentionDays), Math.Max(1, o.RetainLastSnapshots));
            var orphans = table.RemoveOrphanFiles(now - TimeSpan.FromMinutes(o.OrphanFileMinAgeMinutes));
            files += expired.DeletedFiles.Count + orphans.Count;
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{definition.QualifiedName}: {expired.ExpiredSnapshotIds.Count} snapshots expired, {expired.DeletedFiles.Count} files deleted, {orphans.Count} orphans removed"));
        }

        return new JobOutcome(0, files, string.Join("; ", notes));
    }
}
