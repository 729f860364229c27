using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Attribution.Projections.Lakehouse.Parquet;

namespace Attribution.Projections.Lakehouse.Iceberg;

/// <summary>
/// An Iceberg v2 table in the Hadoop-catalog layout (<c>&lt;table&gt;/data</c>, <c>&lt;table&gt;/metadata/vN.metadata.json</c>,
/// <c>metadata/version-hint.text</c>) on a local file system.
/// <para>
/// Commits are optimistic: new data files, manifests and the manifest list are written first, then the next
/// <c>vN+1.metadata.json</c> is created from a temporary file by a rename that fails if the version exists. A crash
/// before that rename leaves only unreferenced files; readers keep seeing version N.
/// </para>
/// <para>
/// Row replacement (<see cref="Overwrite"/>) is copy-on-write: data files holding replaced keys are rewritten
/// without those rows and marked DELETED, so readers never have to merge delete files. Exports replace a small share
/// of rows per call and bucket partitions on the key confine the rewrite to few files; copy-on-write keeps every
/// snapshot readable by simple readers (icebird, DuckDB without delete support) at the cost of rewriting those files.
/// </para>
/// An instance serialises its own writes; separate instances or processes are kept apart by the commit rename.
/// </summary>
public sealed class IcebergTable
{
    private const string MetadataFolder = "metadata";
    private const string DataFolder = "data";
    private const string VersionHint = "version-hint.text";

    private readonly object _writeLock = new();
    private readonly IcebergTableOptions _options;
    private TableMetadata _metadata;
    private int _version;

    private IcebergTable(string localPath, TableMetadata metadata, int version, IcebergTableOptions options)
    {
        LocalPath = localPath;
        _metadata = metadata;
        _version = version;
        _options = options;
    }

    /// <summary>Test hook: runs after every file of a commit is written and before the metadata rename.</summary>
    internal Action<string>? BeforeMetadataSwap { get; set; }

    /// <summary>The table folder on disk.</summary>
    public string LocalPath { get; }

    /// <summary>The table location as written in metadata (a file: URI).</summary>
    public string Location => _metadata.Location;

    public TableSchema Schema => _metadata.Schema;

    public long? CurrentSnapshotId => _metadata.CurrentSnapshotId;

    public int MetadataVersion => _version;

    public string MetadataFileName => MetadataName(_version);

    /// <summary>The partition spec as metadata declares it: field id, name, transform and source column.</summary>
    public IReadOnlyList<PartitionFieldInfo> PartitionFields =>
        _metadata.Spec.Fields.Select(f => new PartitionFieldInfo(f.FieldId, f.Name, f.Transform.Name, Schema.Fields[f.SourceIndex].Name)).ToList();

    /// <summary>A partition tuple in its human form, e.g. <c>event_time_hour=2026-11-01-12</c>.</summary>
    public string PartitionPath(PartitionKey partition) => _metadata.Spec.PathOf(partition);

    /// <summary><c>&lt;warehouse&gt;/&lt;namespace&gt;/&lt;table&gt;</c>, the Hadoop catalog's table folder.</summary>
    public static string HadoopTablePath(string warehouse, string @namespace, string table) =>
        Path.Combine(warehouse, @namespace, table);

    public static IcebergTable CreateOrLoad(string tablePath, TableSchema schema, PartitionSpec spec, IcebergTableOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tablePath);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(spec);
        options ??= new IcebergTableOptions();
        var local = Path.GetFullPath(tablePath);
        var bound = spec.Bind(schema);
        if (FindLatestVersion(local) is null)
        {
            Directory.CreateDirectory(Path.Combine(local, MetadataFolder));
            Directory.CreateDirectory(Path.Combine(local, DataFolder));
            var now = options.Clock.GetUtcNow().ToUnixTimeMilliseconds();
            var metadata = new TableMetadata(
                Guid.NewGuid().ToString(), ToUri(local), 0, now, schema, bound,
                WriteProperties(options),
                null, [], [], []);
            var table = new IcebergTable(local, metadata, 0, options);
            try
            {
                table.CommitMetadata(metadata, new Attempt());
                return table;
            }
            catch (CommitConflictException)
            {
                // Another writer created the table at the same moment; use theirs below.
            }
        }
        for (var attempt = 1; ; attempt++)
        {
            var loaded = Load(local, options);
            if (!loaded._metadata.Spec.SameAs(bound))
                throw new InvalidOperationException($"The table at {local} exists with another partition spec; partition evolution is not supported.");
            if (loaded.Schema.SameColumnsAs(schema)) return loaded;
            if (!schema.Appends(loaded.Schema, loaded._metadata.LastColumnId))
                throw new InvalidOperationException($"The table at {local} exists with another schema; only optional columns appended with new field ids evolve it.");
            try
            {
                loaded.AppendColumns(schema);
                return loaded;
            }
            catch (CommitConflictException) when (attempt < 5)
            {
                // Another writer committed meanwhile (perhaps the same evolution): look again.
            }
        }
    }

    /// <summary>Schema evolution by appending optional columns (Iceberg's add-column): a new schema id, the old schema
    /// kept for the snapshots written under it, and data files without the new columns read them as nulls.</summary>
    private void AppendColumns(TableSchema target)
    {
        var evolved = new TableSchema(target.Fields, _metadata.PastSchemas.Select(s => s.SchemaId).Append(_metadata.Schema.SchemaId).Max() + 1);
        var next = _metadata with { Schema = evolved, PastSchemas = [.. _metadata.PastSchemas, _metadata.Schema] };
        CommitMetadata(next, new Attempt());
    }

    /// <summary>Iceberg's table properties for what this writer does; the level only where the codec has one.</summary>
    private static Dictionary<string, string> WriteProperties(IcebergTableOptions options)
    {
        var properties = new Dictionary<string, string>
        {
            ["write.format.default"] = "parquet",
            ["write.parquet.compression-codec"] = options.Compression.ToString().ToLowerInvariant(),
        };
        if (options.CompressionLevel is { } level && options.Compression is ParquetCompression.Zstd or ParquetCompression.Gzip)
            properties["write.parquet.compression-level"] = level.ToString(CultureInfo.InvariantCulture);
        return properties;
    }

    public static IcebergTable Load(string tablePath, IcebergTableOptions? options = null)
    {
        var local = Path.GetFullPath(tablePath);
        var version = FindLatestVersion(local) ?? throw new FileNotFoundException($"No Iceberg table at {local}.");
        var metadata = TableMetadata.Parse(File.ReadAllText(Path.Combine(local, MetadataFolder, MetadataName(version))));
        return new IcebergTable(local, metadata, version, options ?? new IcebergTableOptions());
    }

    /// <summary>Picks up commits made by other writers.</summary>
    public void Refresh()
    {
        lock (_writeLock)
        {
            var version = FindLatestVersion(LocalPath) ?? throw new FileNotFoundException($"No Iceberg table at {LocalPath}.");
            if (version == _version) return;
            _metadata = TableMetadata.Parse(File.ReadAllText(Path.Combine(LocalPath, MetadataFolder, MetadataName(version))));
            _version = version;
        }
    }

    /// <summary>
    /// The version-hint names the latest version, but a writer that crashed between the metadata rename and the hint
    /// update leaves a newer committed file, so later versions are probed too.
    /// </summary>
    private static int? FindLatestVersion(string local)
    {
        var dir = Path.Combine(local, MetadataFolder);
        if (!Directory.Exists(dir)) return null;
        int? version = null;
        var hint = Path.Combine(dir, VersionHint);
        if (File.Exists(hint) && int.TryParse(File.ReadAllText(hint).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var h) &&
            File.Exists(Path.Combine(dir, MetadataName(h))))
        {
            version = h;
        }
        else
        {
            foreach (var file in Directory.EnumerateFiles(dir, "v*.metadata.json"))
                if (MetadataVersionOf(file) is { } v)
                    version = Math.Max(version ?? 0, v);
        }
        while (version is { } current && File.Exists(Path.Combine(dir, MetadataName(current + 1)))) version = current + 1;
        return version;
    }

    private static int? MetadataVersionOf(string path)
    {
        var name = Path.GetFileName(path);
        return name.StartsWith('v') && name.EndsWith(".metadata.json", StringComparison.Ordinal) &&
               int.TryParse(name.AsSpan(1, name.Length - "v.metadata.json".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : null;
    }

    private static string MetadataName(int version) => string.Create(CultureInfo.InvariantCulture, $"v{version}.metadata.json");

    internal static string ToUri(string localPath) => new Uri(localPath).AbsoluteUri;

    internal static string ToLocal(string location) =>
        location.StartsWith("file:", StringComparison.Ordinal) ? new Uri(location).LocalPath : location;

    // ---------------------------------------------------------------- writes

    /// <summary>
    /// Adds rows (in schema order) as new data files, split by partition. Null when there is nothing to add.
    /// <paramref name="summaryProperties"/> go into the snapshot summary beside the standard keys (which they cannot
    /// replace), so a writer can record what the snapshot holds, e.g. the source range an export covered.
    /// </summary>
    public CommitResult? Append(IReadOnlyList<object?[]> rows, IReadOnlyDictionary<string, string>? summaryProperties = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var write = BeginAppend();
        foreach (var row in rows) write.Add(row);
        return write.Commit(summaryProperties);
    }

    /// <summary>
    /// Replaces rows by key: every existing row whose <paramref name="keyColumn"/> equals a key in
    /// <paramref name="rows"/> is removed and the given rows are added (the last of duplicate keys wins).
    /// </summary>
    public CommitResult? Overwrite(string keyColumn, IReadOnlyList<object?[]> rows, IReadOnlyDictionary<string, string>? summaryProperties = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var write = BeginOverwrite(keyColumn);
        var keyIndex = Schema.IndexOf(keyColumn);
        var keyType = Schema.Fields[keyIndex].Type;
        var keys = rows.Select(r => r.Length > keyIndex ? ColumnValues.Canonical(keyType, r[keyIndex]) : null).ToArray();
        var last = new Dictionary<object, int>();
        for (var i = 0; i < rows.Count; i++)
            if (keys[i] is { } key) last[key] = i;
        for (var i = 0; i < rows.Count; i++)
        {
            // Rows without a usable key reach Add, which refuses them with the reason.
            if (keys[i] is { } key && last[key] != i) continue;
            write.Add(rows[i]);
        }

        return write.Commit(summaryProperties);
    }

    /// <summary>An append whose rows are added one at a time (<see cref="TableWrite"/>).</summary>
    public TableWrite BeginAppend() => new(this, keyIndex: null);

    /// <summary>An overwrite by <paramref name="keyColumn"/> whose rows are added one at a time, each key once (<see cref="TableWrite"/>).</summary>
    public TableWrite BeginOverwrite(string keyColumn)
    {
        ArgumentNullException.ThrowIfNull(keyColumn);
        return new(this, Schema.IndexOf(keyColumn));
    }

    internal BoundPartitionSpec Spec => _metadata.Spec;

    internal int MaxRowsPerFile => Math.Max(1, _options.MaxRowsPerFile);

    /// <summary>Commits a <see cref="TableWrite"/>'s files; for an overwrite, first rewrites the live files holding
    /// older versions of its keys, chosen from the snapshot current under the write lock.</summary>
    internal CommitResult CommitWrite(int? keyIndex, HashSet<object> keys, IReadOnlyList<DataFile> written, Attempt attempt,
        IReadOnlyDictionary<string, string>? summaryProperties)
    {
        lock (_writeLock)
        {
            if (keyIndex is not { } k) return Commit("append", [], written, attempt, summaryProperties);
            var (removed, rewritten) = RewriteWithout(k, keys, attempt);
            return Commit("overwrite", removed, [.. rewritten, .. written], attempt, summaryProperties);
        }
    }

    private (List<LiveFile> Removed, List<DataFile> Rewritten) RewriteWithout(int keyIndex, HashSet<object> keys, Attempt attempt)
    {
        var filter = new KeyFilter(Schema, _metadata.Spec, keyIndex, keys);
        var candidates = LiveFiles(_metadata.CurrentSnapshot).Where(f => filter.MayContain(f.Entry.File)).ToList();
        var removed = new ConcurrentBag<LiveFile>();
        var rewritten = new ConcurrentBag<DataFile>();
        Parallel.ForEach(candidates, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            // The key column decides which rows stay; the others are copied column by column, never as row objects.
            using var input = ParquetFile.Open(ToLocal(file.Entry.File.Path), Schema);
            var keep = new bool[input.RowGroupCount][];
            long replaced = 0;
            for (var g = 0; g < keep.Length; g++)
            {
                var groupKeys = input.ReadColumn(g, keyIndex);
                keep[g] = new bool[groupKeys.Length];
                for (var r = 0; r < groupKeys.Length; r++)
                    if (!(keep[g][r] = groupKeys[r] is not { } k || !keys.Contains(k))) replaced++;
            }
            if (replaced == 0) return;
            removed.Add(file);
            if (replaced == input.RowCount) return;
            using var output = new NewDataFile(this, file.Entry.File.Partition, attempt);
            for (var g = 0; g < keep.Length; g++) output.Writer.AppendFrom(input, g, 0, input.RowGroupRows(g), keep[g]);
            rewritten.Add(output.Finish());
        });
        return ([.. removed], [.. rewritten]);
    }

    /// <summary>
    /// Rewrites the small files of each partition into fewer files of about the target size ("replace": same rows,
    /// fewer files). Null when no partition has enough small files.
    /// </summary>
    public CommitResult? Compact(CompactionOptions? options = null)
    {
        options ??= new CompactionOptions();
        var target = options.TargetFileSizeBytes ?? _options.TargetFileSizeBytes;
        if (target <= 0) throw new ArgumentOutOfRangeException(nameof(options), "TargetFileSizeBytes must be positive.");
        lock (_writeLock)
        {
            // A file at the row cap is as full as a file may get, whatever its size: rewriting it changes nothing.
            var groups = LiveFiles(_metadata.CurrentSnapshot)
                .Where(f => f.Entry.File.FileSizeBytes < target && f.Entry.File.RecordCount < _options.MaxRowsPerFile)
                .GroupBy(f => f.Entry.File.Partition)
                .Where(g => g.Count() >= Math.Max(2, options.MinInputFiles) && (options.PartitionFilter?.Invoke(g.Key) ?? true))
                .Select(g => g.ToList())
                .ToList();
            if (groups.Count == 0) return null;

            var attempt = new Attempt();
            var added = new ConcurrentBag<DataFile>();
            Parallel.ForEach(groups, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, group =>
            {
                var bytesPerRow = Math.Max(1.0, group.Sum(f => (double)f.Entry.File.FileSizeBytes) / Math.Max(1, group.Sum(f => f.Entry.File.RecordCount)));
                var rowsPerFile = (int)Math.Clamp(target / bytesPerRow, 1, _options.MaxRowsPerFile);
                // Rows flow from the small files' row groups into the new files column by column: holding a partition's
                // rows (an hour of Bronze was 1.9 GB) or even one output file's rows as objects made compaction the
                // process's memory peak.
                NewDataFile? output = null;
                try
                {
                    foreach (var file in group)
                    {
                        using var input = ParquetFile.Open(ToLocal(file.Entry.File.Path), Schema);
                        for (var g = 0; g < input.RowGroupCount; g++)
                        {
                            var rows = input.RowGroupRows(g);
                            for (var offset = 0; offset < rows;)
                            {
                                output ??= new NewDataFile(this, group[0].Entry.File.Partition, attempt);
                                var take = (int)Math.Min(rows - offset, rowsPerFile - output.Writer.Rows);
                                output.Writer.AppendFrom(input, g, offset, take);
                                offset += take;
                                if (output.Writer.Rows < rowsPerFile) continue;
                                added.Add(output.Finish());
                                output.Dispose();
                                output = null;
                            }
                        }
                    }
                    if (output is not null) added.Add(output.Finish());
                }
                finally
                {
                    output?.Dispose();
                }
            });
            return Commit("replace", groups.SelectMany(g => g).ToList(), added.ToList(), attempt);
        }
    }

    /// <summary>
    /// Decides whether a file can hold one of the keys: its partition values must be reachable from some key for
    /// every partition field derived from the key column (bucket[N] on the key prunes most files), and the key
    /// column's bounds must enclose a key. Built once per overwrite so each file costs a few lookups.
    /// </summary>
    private sealed class KeyFilter
    {
        private readonly SchemaField _key;
        private readonly object[] _sortedKeys;
        private readonly List<(int Position, HashSet<object> Values)> _partitionValues = [];

        public KeyFilter(TableSchema schema, BoundPartitionSpec spec, int keyIndex, IReadOnlyCollection<object> keys)
        {
            _key = schema.Fields[keyIndex];
            var type = _key.Type;
            _sortedKeys = keys.ToArray();
            Array.Sort(_sortedKeys, (a, b) => ColumnValues.Compare(type, a, b));
            for (var i = 0; i < spec.Fields.Count; i++)
            {
                var pf = spec.Fields[i];
                if (pf.SourceIndex == keyIndex)
                    _partitionValues.Add((i, keys.Select(k => pf.Transform.Apply(pf.SourceType, k)!).ToHashSet()));
            }
        }

        public bool MayContain(DataFile file)
        {
            foreach (var (position, values) in _partitionValues)
                if (file.Partition.Values[position] is not { } v || !values.Contains(v)) return false;
            if (!file.LowerBounds.TryGetValue(_key.Id, out var lo) || !file.UpperBounds.TryGetValue(_key.Id, out var hi)) return true;
            var type = _key.Type;
            var lower = ColumnValues.FromIcebergBinary(type, lo);
            var upper = ColumnValues.FromIcebergBinary(type, hi);
            // First key >= lower; the file may hold a key when that key is also <= upper.
            int left = 0, right = _sortedKeys.Length;
            while (left < right)
            {
                var mid = (left + right) >>> 1;
                if (ColumnValues.Compare(type, _sortedKeys[mid], lower) < 0) left = mid + 1;
                else right = mid;
            }
            return left < _sortedKeys.Length && ColumnValues.Compare(type, _sortedKeys[left], upper) <= 0;
        }
    }

    /// <summary>One new data file of a partition, written row group by row group and tracked by the commit attempt.</summary>
    internal sealed class NewDataFile : IDisposable
    {
        private readonly string _local;
        private readonly PartitionKey _partition;

        public NewDataFile(IcebergTable table, PartitionKey partition, Attempt attempt)
        {
            var spec = table._metadata.Spec;
            var folder = spec.IsUnpartitioned ? Path.Combine(table.LocalPath, DataFolder) : Path.Combine(table.LocalPath, DataFolder, spec.PathOf(partition));
            Directory.CreateDirectory(folder);
            _local = Path.Combine(folder, $"{Guid.NewGuid():N}.parquet");
            _partition = partition;
            attempt.Track(_local);
            Writer = ParquetStreamWriter.Create(_local, table.Schema, new ParquetWriteOptions
            {
                Compression = table._options.Compression,
                CompressionLevel = table._options.CompressionLevel,
                RowGroupRows = table._options.RowsPerRowGroup,
                PageSizeBytes = table._options.PageSizeBytes,
                DictionaryPageSizeBytes = table._options.DictionaryPageSizeBytes,
                KeyValueMetadata = new Dictionary<string, string> { ["iceberg.schema"] = TableMetadata.SchemaJson(table.Schema) },
            });
        }

        public ParquetStreamWriter Writer { get; }

        public DataFile Finish()
        {
            var m = Writer.Finish();
            return new DataFile(
                ToUri(_local),
                _partition,
                m.RecordCount,
                m.FileSizeBytes,
                m.Columns.ToDictionary(c => c.FieldId, c => c.SizeBytes),
                m.Columns.ToDictionary(c => c.FieldId, c => c.ValueCount),
                m.Columns.ToDictionary(c => c.FieldId, c => c.NullCount),
                m.Columns.Where(c => c.NanCount is not null).ToDictionary(c => c.FieldId, c => c.NanCount!.Value),
                m.Columns.Where(c => c.LowerBound is not null).ToDictionary(c => c.FieldId, c => c.LowerBound!),
                m.Columns.Where(c => c.UpperBound is not null).ToDictionary(c => c.FieldId, c => c.UpperBound!),
                m.RowGroupOffsets);
        }

        public void Dispose() => Writer.Dispose();
    }

    // ---------------------------------------------------------------- commit

    internal sealed class Attempt
    {
        private readonly ConcurrentBag<string> _files = [];

        public void Track(string localPath) => _files.Add(localPath);

        /// <summary>A lost commit race leaves its files unreferenced; removing them spares an orphan sweep.</summary>
        public void Abandon()
        {
            foreach (var f in _files)
            {
                try
                {
                    File.Delete(f);
                }
                catch (IOException)
                {
                    // An orphan is harmless to readers; RemoveOrphanFiles takes it later.
                }
            }
        }
    }

    private sealed record LiveFile(ManifestFile Manifest, ManifestEntry Entry);

    private CommitResult Commit(string operation, IReadOnlyList<LiveFile> removed, IReadOnlyList<DataFile> added, Attempt attempt,
        IReadOnlyDictionary<string, string>? summaryProperties = null)
    {
        var base_ = _metadata;
        var parent = base_.CurrentSnapshot;
        var sequence = base_.LastSequenceNumber + 1;
        var snapshotId = NewSnapshotId(base_);
        var now = Math.Max(_options.Clock.GetUtcNow().ToUnixTimeMilliseconds(), base_.LastUpdatedMs);
        var metadataDir = Path.Combine(LocalPath, MetadataFolder);
        var commitId = Guid.NewGuid().ToString("N");
        var manifestCount = 0;

        ManifestFile WriteManifest(IReadOnlyList<ManifestEntry> entries)
        {
            var local = Path.Combine(metadataDir, string.Create(CultureInfo.InvariantCulture, $"{commitId}-m{manifestCount++}.avro"));
            attempt.Track(local);
            return Manifests.WriteManifest(local, ToUri(local), entries, base_.Schema, base_.Spec, snapshotId, sequence, _options.ManifestCodec);
        }

        var manifests = new List<ManifestFile>();
        if (added.Count > 0)
            manifests.Add(WriteManifest(added.Select(f => new ManifestEntry(EntryStatus.Added, snapshotId, null, null, f)).ToList()));

        var removedByManifest = removed.GroupBy(r => r.Manifest.Path).ToDictionary(g => g.Key, g => g.Select(r => r.Entry.File.Path).ToHashSet());
        if (parent is not null)
        {
            foreach (var manifest in Manifests.ReadList(ToLocal(parent.ManifestList)))
            {
                if (removedByManifest.TryGetValue(manifest.Path, out var paths))
                {
                    // Entries already deleted by an earlier snapshot are dropped; live ones keep their inherited
                    // sequence numbers explicitly, as EXISTING or DELETED entries must.
                    var entries = ReadResolved(manifest).Where(e => e.Status != EntryStatus.Deleted).Select(e => paths.Contains(e.File.Path)
                        ? e with { Status = EntryStatus.Deleted, SnapshotId = snapshotId }
                        : e with { Status = EntryStatus.Existing }).ToList();
                    manifests.Add(WriteManifest(entries));
                }
                else if (manifest.AddedFilesCount + manifest.ExistingFilesCount > 0)
                {
                    manifests.Add(manifest);
                }
            }
        }

        var listLocal = Path.Combine(metadataDir, string.Create(CultureInfo.InvariantCulture, $"snap-{snapshotId}-1-{commitId}.avro"));
        attempt.Track(listLocal);
        Manifests.WriteList(listLocal, manifests, snapshotId, parent?.SnapshotId, sequence, _options.ManifestCodec);

        var summary = Summary(operation, parent, removed.Select(r => r.Entry.File).ToList(), added);
        foreach (var (key, value) in summaryProperties ?? new Dictionary<string, string>())
            summary.TryAdd(key, value);
        var snapshot = new SnapshotRecord(snapshotId, parent?.SnapshotId, sequence, now, ToUri(listLocal), summary, base_.Schema.SchemaId);
        var next = base_ with
        {
            LastSequenceNumber = sequence,
            LastUpdatedMs = now,
            CurrentSnapshotId = snapshotId,
            Snapshots = [.. base_.Snapshots, snapshot],
            SnapshotLog = [.. base_.SnapshotLog, new SnapshotLogEntry(now, snapshotId)],
        };
        CommitMetadata(next, attempt);
        return new CommitResult(snapshotId, sequence, _version, operation, added.Count, removed.Count,
            added.Sum(f => f.RecordCount), removed.Sum(r => r.Entry.File.RecordCount));
    }

    private static Dictionary<string, string> Summary(string operation, SnapshotRecord? parent, IReadOnlyList<DataFile> removed, IReadOnlyList<DataFile> added)
    {
        long Total(string key) => parent?.Summary.TryGetValue(key, out var v) == true ? long.Parse(v, CultureInfo.InvariantCulture) : 0;
        static string S(long v) => v.ToString(CultureInfo.InvariantCulture);

        var summary = new Dictionary<string, string> { ["operation"] = operation };
        void Put(string key, long value)
        {
            if (value != 0) summary[key] = S(value);
        }
        Put("added-data-files", added.Count);
        Put("deleted-data-files", removed.Count);
        Put("added-records", added.Sum(f => f.RecordCount));
        Put("deleted-records", removed.Sum(f => f.RecordCount));
        Put("added-files-size", added.Sum(f => f.FileSizeBytes));
        Put("removed-files-size", removed.Sum(f => f.FileSizeBytes));
        summary["changed-partition-count"] = S(added.Select(f => f.Partition).Concat(removed.Select(f => f.Partition)).Distinct().Count());
        summary["total-records"] = S(Total("total-records") + added.Sum(f => f.RecordCount) - removed.Sum(f => f.RecordCount));
        summary["total-files-size"] = S(Total("total-files-size") + added.Sum(f => f.FileSizeBytes) - removed.Sum(f => f.FileSizeBytes));
        summary["total-data-files"] = S(Total("total-data-files") + added.Count - removed.Count);
        summary["total-delete-files"] = "0";
        summary["total-position-deletes"] = "0";
        summary["total-equality-deletes"] = "0";
        return summary;
    }

    /// <summary>
    /// A random positive id below 2^53: JavaScript readers (icebird) parse metadata numbers as doubles, and ids in
    /// that range survive the trip exactly while leaving ample room against collisions, which are checked anyway.
    /// </summary>
    private static long NewSnapshotId(TableMetadata metadata)
    {
        while (true)
        {
            var id = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & ((1L << 53) - 1);
            if (id != 0 && metadata.Snapshots.All(s => s.SnapshotId != id)) return id;
        }
    }

    /// <summary>
    /// Writes vN+1.metadata.json: full content to a temporary name first, then a rename that refuses to replace an
    /// existing version (File.Move without overwrite links the new name, failing atomically if it exists). Only
    /// after that is version-hint.text replaced, itself by rename.
    /// </summary>
    private void CommitMetadata(TableMetadata next, Attempt attempt)
    {
        var dir = Path.Combine(LocalPath, MetadataFolder);
        var newVersion = _version + 1;
        next = next with { LastUpdatedMs = Math.Max(next.LastUpdatedMs, _options.Clock.GetUtcNow().ToUnixTimeMilliseconds()) };
        if (_version > 0)
        {
            var log = next.MetadataLog.Append(new MetadataLogEntry(_metadata.LastUpdatedMs, ToUri(Path.Combine(dir, MetadataName(_version)))));
            next = next with { MetadataLog = log.TakeLast(_options.PreviousMetadataVersionsToKeep).ToList() };
        }
        var temp = Path.Combine(dir, $"{Guid.NewGuid():N}.metadata.json.tmp");
        File.WriteAllText(temp, next.ToJson(), new UTF8Encoding(false));
        BeforeMetadataSwap?.Invoke(temp);

        var final = Path.Combine(dir, MetadataName(newVersion));
        try
        {
            File.Move(temp, final, overwrite: false);
        }
        catch (IOException e) when (File.Exists(final))
        {
            File.Delete(temp);
            attempt.Abandon();
            throw new CommitConflictException($"Version {newVersion} of {LocalPath} was committed by another writer; reload and retry.", e);
        }

        var hintTemp = Path.Combine(dir, $"{Guid.NewGuid():N}.version-hint.tmp");
        File.WriteAllText(hintTemp, newVersion.ToString(CultureInfo.InvariantCulture));
        File.Move(hintTemp, Path.Combine(dir, VersionHint), overwrite: true);
        _metadata = next;
        _version = newVersion;
    }

    // ---------------------------------------------------------------- reads

    private List<ManifestEntry> ReadResolved(ManifestFile manifest) =>
        Manifests.ReadManifest(ToLocal(manifest.Path), _metadata.Spec).Select(e => e with
        {
            // v2 inheritance: null ids and sequence numbers come from the manifest-list record.
            SnapshotId = e.SnapshotId ?? manifest.AddedSnapshotId,
            SequenceNumber = e.SequenceNumber ?? (e.Status == EntryStatus.Added ? manifest.SequenceNumber : null),
            FileSequenceNumber = e.FileSequenceNumber ?? (e.Status == EntryStatus.Added ? manifest.SequenceNumber : null),
        }).ToList();

    private List<LiveFile> LiveFiles(SnapshotRecord? snapshot)
    {
        if (snapshot is null) return [];
        return Manifests.ReadList(ToLocal(snapshot.ManifestList))
            .SelectMany(m => ReadResolved(m).Where(e => e.Status != EntryStatus.Deleted).Select(e => new LiveFile(m, e)))
            .ToList();
    }

    private SnapshotRecord SnapshotOrCurrent(long? snapshotId)
    {
        var metadata = _metadata;
        if (snapshotId is null) return metadata.CurrentSnapshot ?? throw new InvalidOperationException("The table has no snapshot yet.");
        return metadata.Snapshots.FirstOrDefault(s => s.SnapshotId == snapshotId) ?? throw new ArgumentException($"Unknown snapshot {snapshotId}.", nameof(snapshotId));
    }

    public IReadOnlyList<SnapshotInfo> Snapshots()
    {
        var metadata = _metadata;
        return metadata.Snapshots.Select(s => new SnapshotInfo(
            s.SnapshotId,
            s.ParentSnapshotId,
            s.SequenceNumber,
            DateTimeOffset.FromUnixTimeMilliseconds(s.TimestampMs),
            s.Summary["operation"],
            s.Summary,
            s.ManifestList,
            s.SnapshotId == metadata.CurrentSnapshotId)).ToList();
    }

    /// <summary>Every manifest entry of a snapshot (current by default): live files and the ones it deleted.</summary>
    public IReadOnlyList<DataFileInfo> DataFiles(long? snapshotId = null)
    {
        var snapshot = SnapshotOrCurrent(snapshotId);
        return Manifests.ReadList(ToLocal(snapshot.ManifestList))
            .SelectMany(ReadResolved)
            .Select(e => new DataFileInfo(e.File.Path, ToLocal(e.File.Path), e.File.Partition, e.File.RecordCount, e.File.FileSizeBytes,
                e.Status, e.SnapshotId!.Value, e.SequenceNumber ?? 0))
            .ToList();
    }

    /// <summary>All rows of a snapshot (current by default), in schema order, timestamps as DateTimeOffset.</summary>
    public List<object?[]> ReadRows(long? snapshotId = null) =>
        DataFiles(snapshotId).Where(f => f.Status != EntryStatus.Deleted)
            .SelectMany(f => ParquetFileReader.ReadRows(f.LocalPath, Schema))
            .ToList();

    // ---------------------------------------------------------------- maintenance

    /// <summary>
    /// Removes snapshots older than <paramref name="olderThan"/> except the newest <paramref name="retainLast"/> of
    /// the current lineage (the current snapshot always stays), then deletes the data files, manifests and manifest
    /// lists only expired snapshots referenced, and metadata files beyond the configured history.
    /// </summary>
    public ExpireResult ExpireSnapshots(DateTimeOffset olderThan, int retainLast = 1)
    {
        if (retainLast < 1) throw new ArgumentOutOfRangeException(nameof(retainLast), "The current snapshot is always kept.");
        lock (_writeLock)
        {
            var metadata = _metadata;
            var keep = new HashSet<long>();
            var byId = metadata.Snapshots.ToDictionary(s => s.SnapshotId);
            var id = metadata.CurrentSnapshotId;
            while (id is { } current && keep.Count < retainLast && byId.TryGetValue(current, out var snapshot))
            {
                keep.Add(current);
                id = snapshot.ParentSnapshotId;
            }
            var cutoff = olderThan.ToUnixTimeMilliseconds();
            foreach (var s in metadata.Snapshots.Where(s => s.TimestampMs >= cutoff)) keep.Add(s.SnapshotId);
            var expired = metadata.Snapshots.Where(s => !keep.Contains(s.SnapshotId)).ToList();

            var deleted = new List<string>();
            if (expired.Count > 0)
            {
                var kept = metadata.Snapshots.Where(s => keep.Contains(s.SnapshotId)).ToList();
                var referenced = ReferencedFiles(kept, liveDataOnly: true);
                var candidates = ReferencedFiles(expired, liveDataOnly: false);
                var next = metadata with
                {
                    Snapshots = kept,
                    SnapshotLog = metadata.SnapshotLog.Where(e => keep.Contains(e.SnapshotId)).ToList(),
                };
                CommitMetadata(next, new Attempt());
                // Deleting only after the commit: a crash here leaves orphans, never a snapshot without its files.
                foreach (var path in candidates.Except(referenced))
                    if (TryDelete(path)) deleted.Add(path);
            }

            var oldest = _version - _options.PreviousMetadataVersionsToKeep;
            var metadataDir = Path.Combine(LocalPath, MetadataFolder);
            for (var v = oldest - 1; v >= 1; v--)
            {
                var path = Path.Combine(metadataDir, MetadataName(v));
                if (!File.Exists(path)) break;
                if (TryDelete(path)) deleted.Add(path);
            }
            return new ExpireResult(expired.Select(s => s.SnapshotId).ToList(), deleted);
        }
    }

    /// <summary>Local paths of the manifest lists, manifests and data files of the given snapshots.</summary>
    private HashSet<string> ReferencedFiles(IEnumerable<SnapshotRecord> snapshots, bool liveDataOnly)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        var seenManifests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var snapshot in snapshots)
        {
            files.Add(ToLocal(snapshot.ManifestList));
            foreach (var manifest in Manifests.ReadList(ToLocal(snapshot.ManifestList)))
            {
                if (!seenManifests.Add(manifest.Path)) continue;
                files.Add(ToLocal(manifest.Path));
                foreach (var e in Manifests.ReadManifest(ToLocal(manifest.Path), _metadata.Spec))
                    if (!liveDataOnly || e.Status != EntryStatus.Deleted) files.Add(ToLocal(e.File.Path));
            }
        }
        return files;
    }

    /// <summary>
    /// Deletes files under data/ and metadata/ that no snapshot, metadata version or version hint references and that
    /// are older than <paramref name="olderThan"/> (so that files of a commit in flight survive): leftovers of
    /// interrupted or lost commits.
    /// </summary>
    public IReadOnlyList<string> RemoveOrphanFiles(DateTimeOffset olderThan)
    {
        lock (_writeLock)
        {
            var metadata = _metadata;
            var referenced = ReferencedFiles(metadata.Snapshots, liveDataOnly: false);
            var metadataDir = Path.Combine(LocalPath, MetadataFolder);
            referenced.Add(Path.Combine(metadataDir, VersionHint));
            referenced.Add(Path.Combine(metadataDir, MetadataName(_version)));
            foreach (var e in metadata.MetadataLog) referenced.Add(ToLocal(e.MetadataFile));
            var deleted = new List<string>();
            foreach (var folder in new[] { metadataDir, Path.Combine(LocalPath, DataFolder) })
            {
                if (!Directory.Exists(folder)) continue;
                foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
                {
                    if (referenced.Contains(file) || File.GetLastWriteTimeUtc(file) >= olderThan.UtcDateTime) continue;
                    // Newer metadata versions belong to a writer that is about to update the hint.
                    if (MetadataVersionOf(file) > _version) continue;
                    if (TryDelete(file)) deleted.Add(file);
                }
            }
            return deleted;
        }
    }

    private static bool TryDelete(string path)
    {
        try
        {
            if (!File.Exists(path)) return false;
            File.Delete(path);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
