using Attribution.Api.Infrastructure;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Lakehouse.Iceberg;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Attribution.Api.Lakehouse;

/// <summary>Time travel over the Iceberg warehouse: the tables, their snapshots, and one snapshot's files.</summary>
public static class LakehouseEndpoints
{
    public static IEndpointRouteBuilder MapLakehouse(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/lakehouse").WithTags("Lakehouse");
        group.MapGet("/tables", Tables).WithName("LakehouseTables")
            .WithSummary("Every Iceberg table in the warehouse with its schema, partitioning, export mark and snapshots (with summaries)");
        group.MapGet("/{table}/snapshots/{id:long}", Snapshot).WithName("LakehouseSnapshot")
            .WithSummary("One snapshot of a table (e.g. bronze.ad_events): its data files with partitions, record counts and sizes");
        return app;
    }

    public sealed record ColumnView(int Id, string Name, string Type, bool Required);

    public sealed record PartitionFieldView(int FieldId, string Name, string Transform, string SourceColumn);

    public sealed record SnapshotView(
        long SnapshotId, long? ParentSnapshotId, long SequenceNumber, DateTimeOffset Timestamp, string Operation, bool IsCurrent,
        long TotalRecords, int TotalDataFiles, IReadOnlyDictionary<string, string> Summary);

    public sealed record ExportView(long HighWaterMark, long? SnapshotId, long RowsExported, DateTime UpdatedAt);

    public sealed record TableView(
        string Name, string Location, int MetadataVersion, long? CurrentSnapshotId, IReadOnlyList<ColumnView> Schema,
        IReadOnlyList<PartitionFieldView> PartitionSpec, ExportView? Export, IReadOnlyList<SnapshotView> Snapshots);

    public sealed record TablesResponse(string Warehouse, IReadOnlyList<TableView> Tables);

    public sealed record FileView(
        string Path, string Status, string Partition, long RecordCount, long FileSizeBytes, long SnapshotId, long DataSequenceNumber);

    public sealed record SnapshotDetail(
        string Table, SnapshotView Snapshot, int LiveFiles, long LiveRecords, long LiveBytes, int DeletedFiles, long DeletedRecords,
        IReadOnlyList<FileView> Files);

    private static async Task<Ok<TablesResponse>> Tables(LakehouseCatalog catalog, ExportStateStore exports, CancellationToken ct)
    {
        var states = (await exports.ReadAllAsync(ct)).ToDictionary(s => s.Table, StringComparer.Ordinal);
        var tables = new List<TableView>();
        foreach (var name in catalog.ListTables())
        {
            if (catalog.TryLoad(name) is not { } table) continue;
            tables.Add(new TableView(
                name, table.Location, table.MetadataVersion, table.CurrentSnapshotId,
                table.Schema.Fields.Select(f => new ColumnView(f.Id, f.Name, TypeName(f.Type), f.Required)).ToList(),
                table.PartitionFields.Select(p => new PartitionFieldView(p.FieldId, p.Name, p.Transform, p.SourceColumn)).ToList(),
                states.TryGetValue(name, out var s) ? new ExportView(s.HighWaterMark, s.SnapshotId, s.RowsExported, s.UpdatedAt) : null,
                table.Snapshots().OrderByDescending(x => x.SequenceNumber).Select(View).ToList()));
        }

        return TypedResults.Ok(new TablesResponse(catalog.WarehousePath, tables));
    }

    private static Results<Ok<SnapshotDetail>, ProblemHttpResult> Snapshot(string table, long id, LakehouseCatalog catalog)
    {
        if (catalog.TryLoad(table) is not { } t)
            return Problems.NotFound($"No table '{table}' in the warehouse. Known: {string.Join(", ", catalog.ListTables())}.");
        var snapshot = t.Snapshots().FirstOrDefault(s => s.SnapshotId == id);
        if (snapshot is null) return Problems.NotFound($"Table {table} has no snapshot {id} (expired, or never existed).");
        var files = t.DataFiles(id);
        var live = files.Where(f => f.Status != EntryStatus.Deleted).ToList();
        var deleted = files.Where(f => f.Status == EntryStatus.Deleted).ToList();
        return TypedResults.Ok(new SnapshotDetail(
            table, View(snapshot), live.Count, live.Sum(f => f.RecordCount), live.Sum(f => f.FileSizeBytes), deleted.Count, deleted.Sum(f => f.RecordCount),
            files.Select(f => new FileView(f.Location, f.Status.ToString().ToLowerInvariant(), t.PartitionPath(f.Partition), f.RecordCount,
                f.FileSizeBytes, f.SnapshotId, f.DataSequenceNumber)).ToList()));
    }

    private static SnapshotView View(SnapshotInfo s) => new(
        s.SnapshotId, s.ParentSnapshotId, s.SequenceNumber, s.Timestamp, s.Operation, s.IsCurrent, s.TotalRecords, s.TotalDataFiles, s.Summary);

    private static string TypeName(Attribution.Projections.Lakehouse.ColumnType type) => type switch
    {
        Attribution.Projections.Lakehouse.ColumnType.Boolean => "boolean",
        Attribution.Projections.Lakehouse.ColumnType.Int => "int",
        Attribution.Projections.Lakehouse.ColumnType.Long => "long",
        Attribution.Projections.Lakehouse.ColumnType.Double => "double",
        Attribution.Projections.Lakehouse.ColumnType.String => "string",
        _ => "timestamptz",
    };
}
