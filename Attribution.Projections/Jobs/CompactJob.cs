using System.Globalization;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Projections.Observability;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Rewrites the small files each export leaves into files of up to Lakehouse:CompactTargetFileBytes (128 MB) per
/// partition, as a <c>replace</c> snapshot with the same rows. Bronze gets one small file per hour partition per
/// export; Gold gets one per touched bucket per export. Gold has no delete files to fold in: its overwrites are
/// copy-on-write (the affected data files are rewritten at export time), so compacting its small files is all the
/// design's "merge delete files into data files" step amounts to here.
/// </summary>
public sealed class CompactJob(NpgsqlDataSource dataSource, LakehouseCatalog catalog, JobMetrics metrics, IOptions<LakehouseOptions> options)
    : IMaintenanceJob
{
    public string Name => "compact";

    public string Description => "Rewrite small data files of each partition into files up to 128 MB (replace snapshot) for both tables";

    public string DefaultCron => "7 * * * *";

    public async Task<JobOutcome> RunAsync(IJobProgress progress, CancellationToken ct)
    {
        long rows = 0, files = 0;
        var notes = new List<string>();
        var tables = LakehouseTables.Exported;
        for (var i = 0; i < tables.Count; i++)
        {
            var definition = tables[i];
            progress.Report((double)i / tables.Count, $"compacting {definition.QualifiedName}");
            if (!catalog.ListTables().Contains(definition.QualifiedName)) continue;
            await using var tableLock = await LakehouseLocks.AcquireAsync(dataSource, definition.QualifiedName, ct);
            var table = catalog.Open(definition);
            table.Refresh();
            var before = LiveFiles(table);
            var result = table.Compact(new CompactionOptions { TargetFileSizeBytes = options.Value.CompactTargetFileBytes });
            if (result is null)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture, $"{definition.QualifiedName}: nothing to compact ({before} files)"));
                continue;
            }

            metrics.Committed(definition.QualifiedName, table, result);
            rows += result.AddedRecords;
            files += result.AddedFiles + result.DeletedFiles;
            notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"{definition.QualifiedName}: {result.DeletedFiles} files → {result.AddedFiles} ({result.AddedRecords:N0} rows), {LiveFiles(table)} live files"));
        }

        return new JobOutcome(rows, files, string.Join("; ", notes));
    }

    private static int LiveFiles(IcebergTable table) =>
        table.Snapshots().FirstOrDefault(s => s.IsCurrent)?.TotalDataFiles ?? 0;
}
