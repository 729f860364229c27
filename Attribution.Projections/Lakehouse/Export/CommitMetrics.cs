using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Projections.Observability;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>What every Iceberg commit of ours reports: the snapshot, the files it wrote, and the table after it.</summary>
internal static class CommitMetrics
{
    public static void Committed(this JobMetrics metrics, string table, IcebergTable iceberg, CommitResult commit)
    {
        var snapshots = iceberg.Snapshots();
        var dataFiles = snapshots.FirstOrDefault(s => s.IsCurrent)?.TotalDataFiles ?? 0;
        metrics.SnapshotCommitted(table, commit.Operation, commit.AddedFiles, dataFiles, snapshots.Count);
    }
}
