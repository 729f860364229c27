using Attribution.Tests.Fixtures;
using System.Globalization;
using System.Text.Json;
using Attribution.Projections.Lakehouse;
using Attribution.Projections.Lakehouse.Avro;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Projections.Lakehouse.Parquet;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Lakehouse;

internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}

public class IcebergTableTests
{
    private static readonly TableSchema Schema = new(
        new SchemaField(1, "event_id", ColumnType.String, Required: true),
        new SchemaField(2, "user_id", ColumnType.String, Required: true),
        new SchemaField(3, "campaign_id", ColumnType.Long),
        new SchemaField(4, "revenue", ColumnType.Double),
        new SchemaField(5, "converted", ColumnType.Boolean),
        new SchemaField(6, "event_time", ColumnType.TimestampTz, Required: true),
        new SchemaField(7, "clicks", ColumnType.Int));

    private static readonly PartitionSpec Spec = PartitionSpec.Of(
        PartitionFieldDefinition.Hour("event_time"),
        PartitionFieldDefinition.Bucket("event_id", 4));

    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 9, 0, 0, TimeSpan.Zero);

    private static object?[] Row(int i, double revenue) =>
    [
        $"ev-{i:D6}",
        $"user-{i % 97}",
        i % 9 == 0 ? null : 1000L + i % 13,
        i % 7 == 0 ? null : revenue,
        i % 5 == 0 ? null : i % 2 == 0,
        T0.AddMinutes(i % 180).AddTicks(i * 10 + 7), // three hours, sub-millisecond parts
        i % 11 == 0 ? null : i % 40,
    ];

    private static List<object?[]> Rows(int from, int count, double revenue = 1.5) =>
        Enumerable.Range(from, count).Select(i => Row(i, revenue + i)).ToList();

    private static IcebergTable Create(TempDirectory dir, ManualClock? clock = null) =>
        IcebergTable.CreateOrLoad(
            IcebergTable.HadoopTablePath(dir.Path, "attribution", "events"),
            Schema,
            Spec,
            new IcebergTableOptions { RowsPerRowGroup = 200, Clock = clock ?? new ManualClock(T0) });

    /// <summary>The table as icebird reads it (a given metadata version, or the version hint), checked row by row.</summary>
    private static JsonElement AssertIcebirdReads(IcebergTable table, Dictionary<string, object?[]> expected, string? metadataFile = null)
    {
        var result = NodeReaders.Iceberg(table.LocalPath, metadataFile);
        var rows = result.GetProperty("rows");
        Assert.Equal(expected.Count, rows.GetArrayLength());
        var seen = new HashSet<string>();
        foreach (var row in rows.EnumerateArray())
        {
            var key = row.GetProperty("event_id").GetString()!;
            Assert.True(seen.Add(key), $"{key} read twice");
            Assert.True(expected.TryGetValue(key, out var want), $"unexpected row {key}");
            for (var c = 1; c < Schema.Fields.Count; c++)
            {
                var f = Schema.Fields[c];
                row.TryGetProperty(f.Name, out var value);
                if (f.Type == ColumnType.TimestampTz)
                {
                    // hyparquet inside icebird turns microseconds into a JS Date: compare at millisecond precision.
                    var micros = ColumnValues.TimestampMicros(want![c]!);
                    var ms = Math.DivRem(micros, 1000, out var rem) - (rem < 0 ? 1 : 0);
                    Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(ms), DateTimeOffset.Parse(value.GetString()!, CultureInfo.InvariantCulture));
                }
                else
                {
                    TestData.AssertJsValue(f.Type, want![c], value, $"{key}.{f.Name}");
                }
            }
        }
        return result;
    }

    private static Dictionary<string, object?[]> ByKey(IEnumerable<object?[]> rows) => rows.ToDictionary(r => (string)r[0]!);

    [Fact]
    public void Icebird_reads_every_snapshot_of_append_overwrite_and_compaction()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        Assert.Equal(1, table.MetadataVersion);
        Assert.Null(table.CurrentSnapshotId);

        var expected = ByKey(Rows(0, 1_500));
        var first = table.Append(Rows(0, 1_500))!;
        Assert.Equal("append", first.Operation);
        Assert.Equal(1_500, first.AddedRecords);
        Assert.Equal(12, first.AddedFiles); // 3 hours x 4 buckets
        AssertIcebirdReads(table, expected);
        var v2 = table.MetadataFileName;

        foreach (var r in Rows(1_500, 700)) expected[(string)r[0]!] = r;
        table.Append(Rows(1_500, 700));
        var v3 = table.MetadataFileName;
        AssertIcebirdReads(table, expected);

        // 300 existing keys get new values, 100 keys are new.
        var changed = Rows(1_900, 400, revenue: 900.25);
        foreach (var r in changed) expected[(string)r[0]!] = r;
        var overwrite = table.Overwrite("event_id", changed)!;
        Assert.Equal("overwrite", overwrite.Operation);
        Assert.True(overwrite.DeletedFiles > 0);
        Assert.Equal(2_200 + 100, table.Snapshots().Single(s => s.IsCurrent).TotalRecords);
        AssertIcebirdReads(table, expected);
        var v4 = table.MetadataFileName;

        var filesBefore = table.DataFiles().Count(f => f.Status != EntryStatus.Deleted);
        var compaction = table.Compact()!;
        Assert.Equal("replace", compaction.Operation);
        var filesAfter = table.DataFiles().Count(f => f.Status != EntryStatus.Deleted);
        Assert.True(filesAfter < filesBefore, $"{filesAfter} files after compaction, {filesBefore} before");
        Assert.Equal(12, filesAfter); // one file per partition
        Assert.Equal(compaction.AddedRecords, compaction.DeletedRecords);
        var result = AssertIcebirdReads(table, expected);
        Assert.Null(table.Compact()); // nothing left to compact

        // Older versions stay readable as they were.
        AssertIcebirdReads(table, ByKey(Rows(0, 1_500)), v2);
        AssertIcebirdReads(table, ByKey(Rows(0, 2_200)), v3);
        AssertIcebirdReads(table, expected, v4);

        // Our own reader agrees on the current and an older snapshot.
        Assert.Equal(expected.Count, table.ReadRows().Count);
        Assert.Equal(1_500, table.ReadRows(first.SnapshotId).Count);

        var snapshots = table.Snapshots();
        Assert.Equal(["append", "append", "overwrite", "replace"], snapshots.Select(s => s.Operation));
        Assert.Equal([1_500L, 2_200, 2_300, 2_300], snapshots.Select(s => s.TotalRecords));
        Assert.All(snapshots, s => Assert.All(s.Summary.Values, v => Assert.False(string.IsNullOrEmpty(v))));
        Assert.Equal([1L, 2, 3, 4], snapshots.Select(s => s.SequenceNumber));
        Assert.Equal(snapshots.Take(3).Select(s => (long?)s.SnapshotId), snapshots.Skip(1).Select(s => s.ParentSnapshotId));
        foreach (var s in snapshots)
            Assert.Equal(s.TotalDataFiles, table.DataFiles(s.SnapshotId).Count(f => f.Status != EntryStatus.Deleted));

        var metadata = result.GetProperty("metadata");
        Assert.Equal(2, metadata.GetProperty("format-version").GetInt32());
        Assert.Equal(table.CurrentSnapshotId, metadata.GetProperty("refs").GetProperty("main").GetProperty("snapshot-id").GetInt64());
        Assert.Equal(4, metadata.GetProperty("snapshot-log").GetArrayLength());
        Assert.Equal(4, metadata.GetProperty("metadata-log").GetArrayLength());
        Assert.Equal(4, metadata.GetProperty("last-sequence-number").GetInt64());
        Assert.Equal(1001, metadata.GetProperty("last-partition-id").GetInt32());
    }

    [Fact]
    public void Manifests_and_manifest_lists_read_by_avsc_match_the_spec_and_each_other()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 800));
        table.Overwrite("event_id", Rows(100, 50, revenue: 7));
        var current = table.Snapshots().Single(s => s.IsCurrent);

        var listPath = IcebergTable.ToLocal(current.ManifestList);
        var list = NodeReaders.Avro(listPath);
        Assert.Equal("2", list.GetProperty("metadata").GetProperty("format-version").GetString());
        Assert.Equal(current.SnapshotId.ToString(CultureInfo.InvariantCulture), list.GetProperty("metadata").GetProperty("snapshot-id").GetString());
        using var listSchema = JsonDocument.Parse(list.GetProperty("metadata").GetProperty("avro.schema").GetString()!);
        var listFields = listSchema.RootElement.GetProperty("fields").EnumerateArray()
            .ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("field-id").GetInt32());
        Assert.Equal(500, listFields["manifest_path"]);
        Assert.Equal(519, listFields["key_metadata"]);

        long added = 0, existing = 0, deleted = 0, addedFiles = 0, existingFiles = 0, deletedFiles = 0;
        foreach (var m in list.GetProperty("records").EnumerateArray())
        {
            var path = IcebergTable.ToLocal(m.GetProperty("manifest_path").GetString()!);
            Assert.Equal(new FileInfo(path).Length, TestData.JsLong(m.GetProperty("manifest_length")));
            var manifest = NodeReaders.Avro(path);
            var meta = manifest.GetProperty("metadata");
            Assert.Equal("data", meta.GetProperty("content").GetString());
            Assert.Equal("2", meta.GetProperty("format-version").GetString());
            Assert.Equal("0", meta.GetProperty("partition-spec-id").GetString());
            Assert.Contains("bucket[4]", meta.GetProperty("partition-spec").GetString(), StringComparison.Ordinal);
            Assert.Contains("timestamptz", meta.GetProperty("schema").GetString(), StringComparison.Ordinal);

            var entries = manifest.GetProperty("records").EnumerateArray().ToList();
            int Count(int status) => entries.Count(e => e.GetProperty("status").GetInt32() == status);
            long RowCount(int status) => entries.Where(e => e.GetProperty("status").GetInt32() == status)
                .Sum(e => TestData.JsLong(e.GetProperty("data_file").GetProperty("record_count")));
            Assert.Equal(Count(1), m.GetProperty("added_files_count").GetInt32());
            Assert.Equal(Count(0), m.GetProperty("existing_files_count").GetInt32());
            Assert.Equal(Count(2), m.GetProperty("deleted_files_count").GetInt32());
            Assert.Equal(RowCount(1), TestData.JsLong(m.GetProperty("added_rows_count")));
            Assert.Equal(RowCount(0), TestData.JsLong(m.GetProperty("existing_rows_count")));
            Assert.Equal(RowCount(2), TestData.JsLong(m.GetProperty("deleted_rows_count")));
            addedFiles += Count(1);
            existingFiles += Count(0);
            deletedFiles += Count(2);
            added += RowCount(1);
            existing += RowCount(0);
            deleted += RowCount(2);
            Assert.Equal(2, m.GetProperty("partitions").GetArrayLength());

            foreach (var e in entries)
            {
                var status = e.GetProperty("status").GetInt32();
                // ADDED entries inherit sequence numbers; EXISTING and DELETED ones must carry them.
                Assert.Equal(status == 1, e.GetProperty("sequence_number").ValueKind == JsonValueKind.Null);
                var file = e.GetProperty("data_file");
                var local = IcebergTable.ToLocal(file.GetProperty("file_path").GetString()!);
                Assert.Equal(new FileInfo(local).Length, TestData.JsLong(file.GetProperty("file_size_in_bytes")));
                var partition = file.GetProperty("partition");
                Assert.InRange(partition.GetProperty("event_id_bucket").GetInt32(), 0, 3);
                Assert.Equal(7, file.GetProperty("value_counts").GetArrayLength());
                Assert.Equal(7, file.GetProperty("lower_bounds").GetArrayLength());
                Assert.Equal(7, file.GetProperty("column_sizes").GetArrayLength());
                Assert.Equal(1, file.GetProperty("nan_value_counts").GetArrayLength());
                // The hour partition value agrees with the event_time bounds of the file.
                var lower = file.GetProperty("lower_bounds").EnumerateArray().Single(b => b.GetProperty("key").GetInt32() == 6);
                var micros = BitConverter.ToInt64(Convert.FromHexString(lower.GetProperty("value").GetProperty("$hex").GetString()!));
                Assert.Equal(Transform.Hour.Apply(ColumnType.TimestampTz, micros), partition.GetProperty("event_time_hour").GetInt32());
            }
        }
        Assert.Equal(current.TotalRecords, added + existing);
        Assert.Equal(current.TotalDataFiles, addedFiles + existingFiles);
        Assert.Equal(long.Parse(current.Summary["deleted-data-files"], CultureInfo.InvariantCulture), deletedFiles);
        Assert.Equal(long.Parse(current.Summary["deleted-records"], CultureInfo.InvariantCulture), deleted);
    }

    [Fact]
    public void Expiry_deletes_only_files_no_kept_snapshot_references()
    {
        using var dir = new TempDirectory();
        var clock = new ManualClock(T0);
        var table = Create(dir, clock);
        table.Append(Rows(0, 600));
        clock.Advance(TimeSpan.FromHours(1));
        table.Append(Rows(600, 600));
        clock.Advance(TimeSpan.FromHours(1));
        table.Overwrite("event_id", Rows(300, 400, revenue: 3));
        clock.Advance(TimeSpan.FromHours(1));
        table.Compact();
        var oldest = table.Snapshots()[0];
        var dataFilesOfFirst = table.DataFiles(oldest.SnapshotId).Select(f => f.LocalPath).ToList();
        clock.Advance(TimeSpan.FromHours(1));
        var expected = ByKey(table.ReadRows());

        var result = table.ExpireSnapshots(clock.GetUtcNow() - TimeSpan.FromMinutes(30), retainLast: 1);
        Assert.Equal(3, result.ExpiredSnapshotIds.Count);
        Assert.Single(table.Snapshots());
        Assert.DoesNotContain(result.DeletedFiles, f => f.EndsWith(".metadata.json", StringComparison.Ordinal));
        Assert.False(File.Exists(IcebergTable.ToLocal(oldest.ManifestList)));
        Assert.All(dataFilesOfFirst, f => Assert.False(File.Exists(f), $"{f} should be gone"));

        // Everything the remaining snapshot references is still there, and nothing else is on disk.
        var live = table.DataFiles().Where(f => f.Status != EntryStatus.Deleted).Select(f => f.LocalPath).ToHashSet();
        Assert.All(live, f => Assert.True(File.Exists(f)));
        var onDisk = Directory.EnumerateFiles(Path.Combine(table.LocalPath, "data"), "*.parquet", SearchOption.AllDirectories).ToHashSet();
        Assert.Equal(live.OrderBy(x => x), onDisk.OrderBy(x => x));
        AssertIcebirdReads(table, expected);
        Assert.Equal(expected.Count, table.ReadRows().Count);

        // Nothing more to expire: the current snapshot always stays.
        Assert.Empty(table.ExpireSnapshots(clock.GetUtcNow() + TimeSpan.FromDays(1)).ExpiredSnapshotIds);
        Assert.Single(table.Snapshots());
    }

    [Fact]
    public void Expiry_keeps_recent_snapshots_and_files_they_share()
    {
        using var dir = new TempDirectory();
        var clock = new ManualClock(T0);
        var table = Create(dir, clock);
        table.Append(Rows(0, 300));
        clock.Advance(TimeSpan.FromHours(2));
        table.Append(Rows(300, 300));
        var keptSnapshot = table.CurrentSnapshotId!.Value;
        clock.Advance(TimeSpan.FromMinutes(10));
        table.Append(Rows(600, 300));

        var result = table.ExpireSnapshots(clock.GetUtcNow() - TimeSpan.FromHours(1));
        Assert.Single(result.ExpiredSnapshotIds);
        // The first snapshot's data files are still live in the kept ones: only its manifest list may go.
        Assert.Equal([table.Snapshots()[0].SnapshotId, table.CurrentSnapshotId!.Value], table.Snapshots().Select(s => s.SnapshotId));
        Assert.Equal(keptSnapshot, table.Snapshots()[0].SnapshotId);
        Assert.All(result.DeletedFiles, f => Assert.EndsWith(".avro", f, StringComparison.Ordinal));
        Assert.Equal(600, table.ReadRows(keptSnapshot).Count);
        AssertIcebirdReads(table, ByKey(Rows(0, 900)));
    }

    [Fact]
    public void Old_metadata_files_beyond_the_configured_history_are_deleted()
    {
        using var dir = new TempDirectory();
        var table = IcebergTable.CreateOrLoad(dir.File("t"), Schema, PartitionSpec.Unpartitioned,
            new IcebergTableOptions { PreviousMetadataVersionsToKeep = 2, ManifestCodec = AvroCodec.Null, Compression = ParquetCompression.Snappy });
        for (var i = 0; i < 5; i++) table.Append(Rows(i * 10, 10));
        Assert.Equal(6, table.MetadataVersion);
        table.ExpireSnapshots(DateTimeOffset.MinValue);
        var versions = Directory.EnumerateFiles(Path.Combine(table.LocalPath, "metadata"), "v*.metadata.json").Select(Path.GetFileName).Order().ToList();
        Assert.Equal(["v4.metadata.json", "v5.metadata.json", "v6.metadata.json"], versions);
        var result = AssertIcebirdReads(table, ByKey(Rows(0, 50)));
        Assert.Equal(2, result.GetProperty("metadata").GetProperty("metadata-log").GetArrayLength());
    }

    [Fact]
    public void A_commit_interrupted_before_the_metadata_swap_leaves_the_previous_snapshot()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 500));
        var before = table.MetadataVersion;
        var snapshot = table.CurrentSnapshotId;

        table.BeforeMetadataSwap = _ => throw new IOException("simulated crash");
        Assert.Throws<IOException>(() => table.Append(Rows(500, 500)));
        Assert.Throws<IOException>(() => table.Overwrite("event_id", Rows(0, 100, revenue: 5)));

        // The crash left data files, manifests and a temporary metadata file behind, unreferenced.
        var metadataDir = Path.Combine(table.LocalPath, "metadata");
        Assert.Equal(2, Directory.EnumerateFiles(metadataDir, "*.tmp").Count());
        Assert.Equal(before.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(metadataDir, "version-hint.text")));
        AssertIcebirdReads(table, ByKey(Rows(0, 500)));

        var reloaded = IcebergTable.Load(table.LocalPath);
        Assert.Equal(before, reloaded.MetadataVersion);
        Assert.Equal(snapshot, reloaded.CurrentSnapshotId);
        Assert.Equal(500, reloaded.ReadRows().Count);

        // The orphans do not get in the way of the next commit, and an orphan sweep removes them.
        reloaded.Append(Rows(500, 100));
        AssertIcebirdReads(reloaded, ByKey(Rows(0, 600)));
        var removed = reloaded.RemoveOrphanFiles(DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains(removed, f => f.EndsWith(".tmp", StringComparison.Ordinal));
        Assert.Contains(removed, f => f.EndsWith(".parquet", StringComparison.Ordinal));
        Assert.Contains(removed, f => f.EndsWith(".avro", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(metadataDir, "*.tmp"));
        AssertIcebirdReads(reloaded, ByKey(Rows(0, 600)));
        Assert.Empty(reloaded.RemoveOrphanFiles(DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public void A_stale_writer_gets_a_conflict_and_leaves_nothing_behind()
    {
        using var dir = new TempDirectory();
        var first = Create(dir);
        first.Append(Rows(0, 100));
        var second = IcebergTable.Load(first.LocalPath);
        first.Append(Rows(100, 100));

        var filesBefore = Directory.EnumerateFiles(first.LocalPath, "*", SearchOption.AllDirectories).Count();
        Assert.Throws<CommitConflictException>(() => second.Append(Rows(200, 100)));
        Assert.Equal(filesBefore, Directory.EnumerateFiles(first.LocalPath, "*", SearchOption.AllDirectories).Count());

        second.Refresh();
        second.Append(Rows(200, 100));
        AssertIcebirdReads(second, ByKey(Rows(0, 300)));
    }

    [Fact]
    public void A_version_committed_without_its_hint_update_is_still_found()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 50));
        table.Append(Rows(50, 50));
        // A writer that died after the rename but before rewriting the hint.
        File.WriteAllText(Path.Combine(table.LocalPath, "metadata", "version-hint.text"), "2");
        var loaded = IcebergTable.Load(table.LocalPath);
        Assert.Equal(3, loaded.MetadataVersion);
        Assert.Equal(100, loaded.ReadRows().Count);
    }

    [Fact]
    public void Create_or_load_reuses_the_table_and_refuses_another_schema()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 10));
        var again = Create(dir);
        Assert.Equal(table.CurrentSnapshotId, again.CurrentSnapshotId);
        var other = new TableSchema(new SchemaField(1, "event_id", ColumnType.String, Required: true));
        Assert.Throws<InvalidOperationException>(() => IcebergTable.CreateOrLoad(table.LocalPath, other, PartitionSpec.Unpartitioned));
    }

    [Fact]
    public void Appending_optional_columns_evolves_the_schema_and_old_files_read_them_as_nulls()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 300));
        var before = table.CurrentSnapshotId;

        var wider = new TableSchema([.. Schema.Fields, new SchemaField(8, "ip_address", ColumnType.String)]);
        var evolved = IcebergTable.CreateOrLoad(table.LocalPath, wider, Spec, new IcebergTableOptions { RowsPerRowGroup = 200, Clock = new ManualClock(T0) });
        Assert.Equal(before, evolved.CurrentSnapshotId);
        Assert.True(evolved.Schema.SameColumnsAs(wider));
        Assert.Equal(1, evolved.Schema.SchemaId);
        evolved.Append([.. Rows(300, 300).Select(r => (object?[])[.. r, $"198.51.100.{r[0]!.ToString()!.Length}"])]);

        // The old schema stays in the metadata for the snapshot written under it; icebird reads both generations.
        var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(evolved.LocalPath, "metadata", evolved.MetadataFileName))).RootElement;
        Assert.Equal([0, 1], metadata.GetProperty("schemas").EnumerateArray().Select(s => s.GetProperty("schema-id").GetInt32()));
        Assert.Equal((1, 8), (metadata.GetProperty("current-schema-id").GetInt32(), metadata.GetProperty("last-column-id").GetInt32()));
        var read = NodeReaders.Iceberg(evolved.LocalPath).GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("event_id").GetString()!, r => r.TryGetProperty("ip_address", out var ip) && ip.ValueKind == JsonValueKind.String ? ip.GetString() : null);
        Assert.Equal(600, read.Count);
        Assert.Null(read["ev-000007"]);
        Assert.Equal("198.51.100.9", read["ev-000307"]);

        // Compaction rewrites old files under the new schema, the missing column as nulls.
        Assert.NotNull(evolved.Compact());
        var rows = evolved.ReadRows().ToDictionary(r => (string)r[0]!, r => r[7]);
        Assert.Equal((null, "198.51.100.9"), (rows["ev-000007"], rows["ev-000307"]));

        // Anything but appended optional columns with new ids is refused.
        var required = new TableSchema([.. wider.Fields, new SchemaField(9, "ua", ColumnType.String, Required: true)]);
        Assert.Throws<InvalidOperationException>(() => IcebergTable.CreateOrLoad(table.LocalPath, required, Spec));
        var narrower = new TableSchema([.. Schema.Fields]);
        Assert.Throws<InvalidOperationException>(() => IcebergTable.CreateOrLoad(table.LocalPath, narrower, Spec));
    }

    [Fact]
    public void Overwrite_rewrites_only_files_that_hold_replaced_keys()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 2_000));
        var liveBefore = table.DataFiles().Count;
        // All replaced keys hash to one bucket, so at most the three hour files of that bucket are rewritten.
        var bucket = Transform.Bucket(4);
        var sameBucket = Rows(0, 2_000).Where(r => (int)bucket.Apply(ColumnType.String, r[0])! == 2).Take(30).ToList();
        var result = table.Overwrite("event_id", sameBucket)!;
        Assert.InRange(result.DeletedFiles, 1, 3);
        Assert.Equal(liveBefore - result.DeletedFiles + result.AddedFiles, table.DataFiles().Count(f => f.Status != EntryStatus.Deleted));
        Assert.Equal(2_000, table.ReadRows().Count);
    }

    [Fact]
    public void Compaction_cuts_files_at_the_row_cap_and_row_groups_at_their_size_whatever_the_inputs_were()
    {
        using var dir = new TempDirectory();
        var table = IcebergTable.CreateOrLoad(
            IcebergTable.HadoopTablePath(dir.Path, "attribution", "events"), Schema, PartitionSpec.Unpartitioned,
            new IcebergTableOptions { RowsPerRowGroup = 200, MaxRowsPerFile = 500, Clock = new ManualClock(T0) });
        var expected = new Dictionary<string, object?[]>();
        // Seven small appends: files of 37 .. 337 rows, row groups of up to 200.
        for (var i = 0; i < 7; i++)
        {
            var rows = Rows(i * 1_000, 37 + i * 50);
            foreach (var r in rows) expected[(string)r[0]!] = r;
            table.Append(rows);
        }

        var result = table.Compact()!;
        Assert.Equal(expected.Count, result.AddedRecords);
        var files = table.DataFiles().Where(f => f.Status == EntryStatus.Added && f.SnapshotId == result.SnapshotId).ToList();
        Assert.Equal((expected.Count + 499) / 500, files.Count);
        Assert.All(files, f => Assert.InRange(f.RecordCount, 1, 500));
        Assert.Equal(files.Count - 1, files.Count(f => f.RecordCount == 500));
        foreach (var file in files)
        {
            var groups = NodeReaders.Parquet(file.LocalPath).GetProperty("metadata").GetProperty("row_groups")
                .EnumerateArray().Select(g => TestData.JsLong(g.GetProperty("num_rows"))).ToList();
            // Every row group but a file's last holds exactly RowsPerRowGroup rows.
            Assert.All(groups.SkipLast(1), g => Assert.Equal(200, g));
            Assert.Equal(file.RecordCount, groups.Sum());
        }
        AssertIcebirdReads(table, expected);
    }

    [Fact]
    public void Overwrites_leave_the_table_holding_the_latest_row_of_every_key()
    {
        // A model of the table (key -> latest row) against the copy-on-write path, which keeps rows by a mask
        // over row groups of a few rows each.
        using var dir = new TempDirectory();
        var n = 0;
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed =>
        {
            var random = new Random(seed);
            var table = IcebergTable.CreateOrLoad(
                IcebergTable.HadoopTablePath(dir.Path, "attribution", $"t{n++}"), Schema, Spec,
                new IcebergTableOptions { RowsPerRowGroup = random.Next(1, 9), Clock = new ManualClock(T0) });
            var model = new Dictionary<string, object?[]>();
            for (var batch = 0; batch < 4; batch++)
            {
                var rows = Enumerable.Range(0, random.Next(1, 60)).Select(_ => Row(random.Next(80), random.Next(1_000))).ToList();
                foreach (var r in rows) model[(string)r[0]!] = r;
                table.Overwrite("event_id", rows);
            }
            var actual = table.ReadRows();
            return actual.Count == model.Count && actual.All(r => model[(string)r[0]!].Select((v, c) => ColumnValues.Canonical(Schema.Fields[c].Type, v))
                .SequenceEqual(r.Select((v, c) => ColumnValues.Canonical(Schema.Fields[c].Type, v))));
        }).CheckSeeded();
    }

    [Fact]
    public void A_streamed_write_may_reuse_one_row_buffer_and_cuts_every_partition_s_files_at_the_row_cap()
    {
        using var dir = new TempDirectory();
        var table = IcebergTable.CreateOrLoad(
            IcebergTable.HadoopTablePath(dir.Path, "attribution", "events"), Schema, Spec,
            new IcebergTableOptions { RowsPerRowGroup = 40, MaxRowsPerFile = 150, Clock = new ManualClock(T0) });
        var expected = new Dictionary<string, object?[]>();
        var buffer = new object?[Schema.Fields.Count];
        CommitResult result;
        using (var write = table.BeginAppend())
        {
            for (var i = 0; i < 2_400; i++)
            {
                var row = Row(i, i * 0.25);
                expected[(string)row[0]!] = row;
                row.CopyTo(buffer, 0);
                write.Add(buffer);
            }
            Assert.Equal(2_400, write.Rows);
            result = write.Commit(new Dictionary<string, string> { ["attribution.seq-to"] = "2400" })!;
        }

        Assert.Equal("2400", table.Snapshots()[^1].Summary["attribution.seq-to"]);
        var files = table.DataFiles().Where(f => f.SnapshotId == result.SnapshotId).ToList();
        Assert.Equal(result.AddedFiles, files.Count);
        foreach (var partition in files.GroupBy(f => f.Partition))
        {
            // Rows arrive spread over 12 partitions; each partition's files fill to the cap before the next opens.
            Assert.All(partition, f => Assert.InRange(f.RecordCount, 1, 150));
            Assert.True(partition.Count(f => f.RecordCount < 150) <= 1);
        }
        Assert.Equal(12, files.Select(f => f.Partition).Distinct().Count());
        Assert.True(files.Count > 12);
        AssertIcebirdReads(table, expected);
    }

    [Fact]
    public void A_write_disposed_before_its_commit_leaves_neither_a_snapshot_nor_a_file()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        table.Append(Rows(0, 100));
        var snapshot = table.CurrentSnapshotId;
        var data = Path.Combine(table.LocalPath, "data");
        var before = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order().ToList();

        using (var write = table.BeginOverwrite("event_id"))
        {
            foreach (var row in Rows(50, 400)) write.Add(row);
            Assert.NotEqual(before.Count, Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count());
        }

        table.Refresh();
        Assert.Equal(snapshot, table.CurrentSnapshotId);
        Assert.Equal(before, Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Order().ToList());
        AssertIcebirdReads(table, ByKey(Rows(0, 100)));
    }

    [Fact]
    public void An_overwrite_refuses_a_key_added_twice_and_a_committed_write_takes_no_more_rows()
    {
        using var dir = new TempDirectory();
        var table = Create(dir);
        using var write = table.BeginOverwrite("event_id");
        write.Add(Row(1, 1.0));
        var twice = Assert.Throws<ArgumentException>(() => write.Add(Row(1, 2.0)));
        Assert.Contains("ev-000001", twice.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => write.Add(Row(2, 1.0)[..6]));
        // The snapshot holds the one row accepted: neither the refused repeat nor the short row.
        var commit = write.Commit();
        Assert.Equal(("overwrite", 1L), (commit?.Operation, commit?.AddedRecords));
        Assert.Throws<InvalidOperationException>(() => write.Add(Row(2, 1.0)));

        var rows = table.ReadRows();
        Assert.Equal(1.0, Assert.Single(rows)[3]);
    }

    [Fact]
    public void Field_ids_nulls_and_timestamp_statistics_survive_copy_on_write_and_compaction_as_DuckDB_reads_them()
    {
        using var dir = new TempDirectory();
        var table = IcebergTable.CreateOrLoad(
            IcebergTable.HadoopTablePath(dir.Path, "attribution", "events"), Schema, PartitionSpec.Unpartitioned,
            new IcebergTableOptions { RowsPerRowGroup = 150, Clock = new ManualClock(T0) });
        var expected = new Dictionary<string, object?[]>();
        for (var i = 0; i < 6; i++)
        {
            var rows = Rows(i * 400, 400);
            foreach (var r in rows) expected[(string)r[0]!] = r;
            table.Append(rows);
        }
        // Copy-on-write: every file holds some of these keys, so each is rewritten through a keep mask.
        var replaced = Enumerable.Range(0, 2_400).Where(i => i % 37 == 5).Select(i => Row(i, -i)).ToList();
        foreach (var r in replaced) expected[(string)r[0]!] = r;
        Assert.Equal(6, table.Overwrite("event_id", replaced)!.DeletedFiles);
        var compaction = table.Compact()!;
        Assert.Equal(expected.Count, compaction.AddedRecords);

        var files = table.DataFiles().Where(f => f.Status != EntryStatus.Deleted).Select(f => f.LocalPath).ToList();
        Assert.Single(files);
        var list = "[" + string.Join(", ", files.Select(NodeReaders.SqlString)) + "]";
        foreach (var file in files)
        {
            var ids = NodeReaders.DuckDb(file).GetProperty("schema").EnumerateArray().Skip(1)
                .Select(s => (int)TestData.JsLong(s.GetProperty("field_id"))).ToList();
            Assert.Equal(Schema.Fields.Select(f => f.Id), ids);
        }

        var read = NodeReaders.DuckDbQuery($"""
            SELECT event_id, user_id, campaign_id, revenue, converted, epoch_us(event_time) AS event_time, clicks
            FROM read_parquet({list}) ORDER BY event_id
            """);
        Assert.Equal(expected.Count, read.GetArrayLength());
        foreach (var row in read.EnumerateArray())
        {
            var want = expected[row.GetProperty("event_id").GetString()!];
            for (var c = 1; c < Schema.Fields.Count; c++)
                TestData.AssertJsValue(Schema.Fields[c].Type, want[c], row.GetProperty(Schema.Fields[c].Name), $"{want[0]}.{Schema.Fields[c].Name}");
        }
        var nulls = NodeReaders.DuckDbQuery($"""
            SELECT count(*) FILTER (WHERE campaign_id IS NULL) AS campaign, count(*) FILTER (WHERE revenue IS NULL) AS revenue,
                   count(*) FILTER (WHERE converted IS NULL) AS converted, count(*) FILTER (WHERE clicks IS NULL) AS clicks
            FROM read_parquet({list})
            """)[0];
        Assert.Equal(expected.Values.Count(r => r[2] is null), TestData.JsLong(nulls.GetProperty("campaign")));
        Assert.Equal(expected.Values.Count(r => r[3] is null), TestData.JsLong(nulls.GetProperty("revenue")));
        Assert.Equal(expected.Values.Count(r => r[4] is null), TestData.JsLong(nulls.GetProperty("converted")));
        Assert.Equal(expected.Values.Count(r => r[6] is null), TestData.JsLong(nulls.GetProperty("clicks")));

        // A timestamp predicate over the compacted file's row groups, chosen by their statistics.
        var from = ColumnValues.TimestampMicros(T0.AddMinutes(61));
        var to = ColumnValues.TimestampMicros(T0.AddMinutes(95).AddTicks(5));
        var count = NodeReaders.DuckDbQuery($"""
            SELECT count(*) AS n FROM read_parquet({list})
            WHERE event_time >= make_timestamp({from}::BIGINT)::TIMESTAMPTZ AND event_time < make_timestamp({to}::BIGINT)::TIMESTAMPTZ
            """)[0];
        var inWindow = expected.Values.Count(r => ColumnValues.TimestampMicros(r[5]!) is var t && t >= from && t < to);
        Assert.InRange(inWindow, 1, expected.Count - 1);
        Assert.Equal(inWindow, TestData.JsLong(count.GetProperty("n")));
        AssertIcebirdReads(table, expected);
    }

    [Theory]
    [InlineData(ParquetCompression.Gzip, 6, "GZIP", "6")]
    [InlineData(ParquetCompression.Snappy, 6, "SNAPPY", null)]
    [InlineData(ParquetCompression.Zstd, null, "ZSTD", null)]
    public void The_lakehouse_settings_reach_the_table_properties_and_every_data_file(
        ParquetCompression codec, int? level, string fileCodec, string? propertyLevel)
    {
        using var dir = new TempDirectory();
        var catalog = new LakehouseCatalog(Microsoft.Extensions.Options.Options.Create(new LakehouseOptions
        {
            WarehousePath = dir.Path,
            Compression = codec,
            CompressionLevel = level,
            RowsPerRowGroup = 100,
        }));
        var table = catalog.Open(new LakehouseTableDefinition("test", "all_types", TestData.AllTypes, PartitionSpec.Unpartitioned));
        var rows = TestData.AllTypesRows(250);
        table.Append(rows);

        var js = NodeReaders.Iceberg(table.LocalPath);
        var properties = js.GetProperty("metadata").GetProperty("properties");
        Assert.Equal(codec.ToString().ToLowerInvariant(), properties.GetProperty("write.parquet.compression-codec").GetString());
        Assert.Equal(propertyLevel, properties.TryGetProperty("write.parquet.compression-level", out var l) ? l.GetString() : null);
        Assert.Equal(rows.Count, js.GetProperty("rows").GetArrayLength());
        var file = Assert.Single(table.DataFiles());
        var groups = NodeReaders.Parquet(file.LocalPath).GetProperty("metadata").GetProperty("row_groups");
        Assert.Equal([100L, 100L, 50L], groups.EnumerateArray().Select(g => TestData.JsLong(g.GetProperty("num_rows"))));
        Assert.All(groups.EnumerateArray().SelectMany(g => g.GetProperty("columns").EnumerateArray()),
            c => Assert.Equal(fileCodec, c.GetProperty("meta_data").GetProperty("codec").GetString()));
    }
}
