using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Attribution.Projections.Lakehouse.Iceberg;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>
/// The warehouse folder: opens the exported tables for writing (one instance per table per process, so its own
/// writes are serialised) and finds every table in the Hadoop-catalog layout for the read side.
/// </summary>
public sealed partial class LakehouseCatalog
{
    private readonly ConcurrentDictionary<string, IcebergTable> _open = new(StringComparer.Ordinal);

    public LakehouseCatalog(IOptions<LakehouseOptions> options, IHostEnvironment? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var configured = options.Value.WarehousePath;
        if (string.IsNullOrWhiteSpace(configured)) throw new InvalidOperationException("Lakehouse:WarehousePath must not be empty.");
        WarehousePath = Path.GetFullPath(Path.IsPathRooted(configured)
            ? configured
            : Path.Combine(environment?.ContentRootPath ?? Directory.GetCurrentDirectory(), configured));
        TableOptions = new IcebergTableOptions
        {
            TargetFileSizeBytes = options.Value.CompactTargetFileBytes,
            MaxRowsPerFile = Math.Max(1, options.Value.MaxRowsPerFile),
            Compression = options.Value.Compression,
            CompressionLevel = options.Value.CompressionLevel,
            RowsPerRowGroup = Math.Max(1, options.Value.RowsPerRowGroup),
            PageSizeBytes = Math.Max(1, options.Value.PageSizeBytes),
            DictionaryPageSizeBytes = Math.Max(1, options.Value.DictionaryPageSizeBytes),
        };
    }

    public string WarehousePath { get; }

    public IcebergTableOptions TableOptions { get; }

    /// <summary>The table for writing, created on first use.</summary>
    public IcebergTable Open(LakehouseTableDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return _open.GetOrAdd(definition.QualifiedName, _ => IcebergTable.CreateOrLoad(
            IcebergTable.HadoopTablePath(WarehousePath, definition.Namespace, definition.Table), definition.Schema, definition.Spec, TableOptions));
    }

    /// <summary>Every <c>namespace.table</c> in the warehouse that has committed metadata, ours or another writer's.</summary>
    public IReadOnlyList<string> ListTables()
    {
        if (!Directory.Exists(WarehousePath)) return [];
        var tables = new List<string>();
        foreach (var ns in Directory.EnumerateDirectories(WarehousePath))
        {
            foreach (var table in Directory.EnumerateDirectories(ns))
            {
                var name = $"{Path.GetFileName(ns)}.{Path.GetFileName(table)}";
                var metadata = Path.Combine(table, "metadata");
                if (IsTableName(name) && Directory.Exists(metadata) && Directory.EnumerateFiles(metadata, "v*.metadata.json").Any())
                    tables.Add(name);
            }
        }
        tables.Sort(StringComparer.Ordinal);
        return tables;
    }

    /// <summary>A fresh read-only view of a table by its qualified name, or null when the warehouse has no such table.</summary>
    public IcebergTable? TryLoad(string qualifiedName)
    {
        // The name comes from a URL: only names the listing produced may become a path.
        if (qualifiedName is null || !IsTableName(qualifiedName) || !ListTables().Contains(qualifiedName, StringComparer.Ordinal)) return null;
        var dot = qualifiedName.IndexOf('.', StringComparison.Ordinal);
        return IcebergTable.Load(IcebergTable.HadoopTablePath(WarehousePath, qualifiedName[..dot], qualifiedName[(dot + 1)..]), TableOptions);
    }

    private static bool IsTableName(string name) => TableName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$")]
    private static partial Regex TableName();
}
