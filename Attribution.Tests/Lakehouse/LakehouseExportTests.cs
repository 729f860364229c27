using System.Globalization;
using System.Text.Json.Nodes;
using Attribution.Projections.Jobs;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Lakehouse;

/// <summary>
/// The export jobs end to end: events through the batch applier into PostgreSQL, the jobs into Iceberg, and the
/// tables read back by icebird and hyparquet, compared with PostgreSQL value by value.
/// </summary>
public sealed class LakehouseExportTests
{
    private const string Bronze = "bronze.ad_events";
    private const string Gold = "gold.ad_performance_state";

    /// <summary>Impressions spread over three hours (so several hour partitions), every third one clicked.</summary>
    internal static JsonObject[] Impressions(int from, int count) => Enumerable.Range(from, count)
        .Select(i => Impression($"i-{i:D4}", $"imp-{i:D4}", TimeSpan.FromMinutes(i * 7 % 180), bid: 0.5m + i % 7 * 0.25m,
            campaign: $"camp-{i % 3}", user: $"u-{i % 11}"))
        .ToArray();

    internal static JsonObject[] Clicks(IEnumerable<int> ids) => ids
        .Select(i => Click($"i-{i:D4}", $"clk-{i:D4}", TimeSpan.FromMinutes(i * 7 % 180) + TimeSpan.FromSeconds(30)))
        .ToArray();

    internal static JsonObject[] Conversions(IEnumerable<int> ids) => ids
        .Select(i => Conversion($"i-{i:D4}", $"cnv-{i:D4}", TimeSpan.FromMinutes(i * 7 % 180 + 5), 1.5m * i + 0.25m))
        .ToArray();

    private static async Task AssertTablesMatchPostgresAsync(LakehouseHost host, string context)
    {
        var bronze = await ExportExpectations.BronzeAsync(host.DataSource);
        var gold = await ExportExpectations.GoldAsync(host.DataSource);
        var bronzeTable = host.Catalog.Open(LakehouseTables.Bronze);
        var goldTable = host.Catalog.Open(LakehouseTables.Gold);
        ExportExpectations.AssertRows(LakehouseTables.Bronze.Schema, bronze,
            NodeReaders.Iceberg(bronzeTable.LocalPath).GetProperty("rows"), timestampsAsDates: true, $"{context} icebird bronze");
        ExportExpectations.AssertRows(LakehouseTables.Gold.Schema, gold,
            NodeReaders.Iceberg(goldTable.LocalPath).GetProperty("rows"), timestampsAsDates: true, $"{context} icebird gold");
    }

    [Fact]
    public async Task Bronze_and_Gold_read_back_by_icebird_and_hyparquet_match_PostgreSQL_at_every_snapshot()
    {
        await using var host = await LakehouseHost.StartAsync("lhexport");

        // Snapshot 1: impressions and a first round of clicks.
        await host.ApplyAsync([.. Impressions(0, 60), .. Clicks(Enumerable.Range(0, 60).Where(i => i % 3 == 0))]);
        var bronzeRun = await host.RunOkAsync("export-bronze");
        var goldRun = await host.RunOkAsync("export-gold");
        Assert.Equal(80, bronzeRun.RowsTouched);
        Assert.Equal(60, goldRun.RowsTouched);
        Assert.True(bronzeRun.FilesTouched >= 3, $"three hour partitions at least, got {bronzeRun.FilesTouched} files");
        var goldFirst = host.Catalog.Open(LakehouseTables.Gold).MetadataFileName;
        var goldAfterFirst = await ExportExpectations.GoldAsync(host.DataSource);

        // Snapshot 2: new impressions, conversions on clicked ones (Gold rows change), a duplicate delivery.
        await host.ApplyAsync([.. Impressions(60, 40), .. Conversions(Enumerable.Range(0, 30).Where(i => i % 3 == 0)), Impressions(5, 1)[0]]);
        bronzeRun = await host.RunOkAsync("export-bronze");
        goldRun = await host.RunOkAsync("export-gold");
        Assert.Equal(50, bronzeRun.RowsTouched);
        Assert.Equal(50, goldRun.RowsTouched);

        // Snapshot 3: late clicks only.
        await host.ApplyAsync(Clicks([61, 62, 99]));
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");
        Assert.Equal(0, (await host.RunOkAsync("export-bronze")).RowsTouched); // nothing new: no snapshot

        await AssertTablesMatchPostgresAsync(host, "current");

        var bronzeTable = host.Catalog.Open(LakehouseTables.Bronze);
        var appends = bronzeTable.Snapshots().OrderBy(s => s.SequenceNumber).ToList();
        Assert.Equal(["append", "append", "append"], appends.Select(s => s.Operation));
        // The seq ranges the snapshots carry are contiguous and end at the last event.
        Assert.Equal("1", appends[0].Summary["attribution.seq-from"]);
        for (var i = 1; i < appends.Count; i++)
        {
            Assert.Equal(long.Parse(appends[i - 1].Summary["attribution.seq-to"], CultureInfo.InvariantCulture) + 1,
                long.Parse(appends[i].Summary["attribution.seq-from"], CultureInfo.InvariantCulture));
        }

        Assert.Equal(await Db.CountAsync(host.DataSource, "SELECT max(seq) FROM events"), long.Parse(appends[^1].Summary["attribution.seq-to"], CultureInfo.InvariantCulture));
        var goldTable = host.Catalog.Open(LakehouseTables.Gold);
        // Gold commits are overwrites by key, the first one included (it replaces nothing).
        Assert.Equal(["overwrite", "overwrite", "overwrite"], goldTable.Snapshots().OrderBy(s => s.SequenceNumber).Select(s => s.Operation));
        Assert.Equal(100, goldTable.Snapshots().Single(s => s.IsCurrent).TotalRecords);

        // Time travel: the first Gold snapshot still reads as Gold was then.
        ExportExpectations.AssertRows(LakehouseTables.Gold.Schema, goldAfterFirst,
            NodeReaders.Iceberg(goldTable.LocalPath, goldFirst).GetProperty("rows"), timestampsAsDates: true, "first gold snapshot");

        // hyparquet reads single data files of the current snapshots with exact microseconds.
        var bronze = await ExportExpectations.BronzeAsync(host.DataSource);
        var gold = await ExportExpectations.GoldAsync(host.DataSource);
        foreach (var (table, expected, definition) in new[] { (bronzeTable, bronze, LakehouseTables.Bronze), (goldTable, gold, LakehouseTables.Gold) })
        {
            var file = table.DataFiles().Where(f => f.Status != EntryStatus.Deleted).MaxBy(f => f.RecordCount)!;
            var rows = NodeReaders.Parquet(file.LocalPath).GetProperty("rows");
            Assert.Equal(file.RecordCount, rows.GetArrayLength());
            foreach (var row in rows.EnumerateArray())
                ExportExpectations.AssertRow(definition.Schema, expected, row, timestampsAsDates: false, $"hyparquet {definition.QualifiedName}");
        }
    }

    [Fact]
    public async Task An_export_interrupted_before_the_metadata_swap_leaves_the_previous_snapshot_and_the_next_run_exports_each_row_once()
    {
        await using var host = await LakehouseHost.StartAsync("lhcrash");
        await host.ApplyAsync(Impressions(0, 30));
        await host.RunOkAsync("export-bronze");
        var table = host.Catalog.Open(LakehouseTables.Bronze);
        var before = table.CurrentSnapshotId;
        var mark = await Db.CountAsync(host.DataSource, "SELECT high_water_mark FROM lakehouse_export_state WHERE table_name = $1", Bronze);

        await host.ApplyAsync([.. Impressions(30, 20), .. Clicks([1, 2, 3])]);
        // Every file of the commit is written, then the process "dies" before the rename that would publish it.
        table.BeforeMetadataSwap = _ => throw new IOException("simulated kill before the metadata swap");
        var failed = await host.RunAsync("export-bronze");
        table.BeforeMetadataSwap = null;

        Assert.Equal(MaintenanceJobs.Failed, failed.Outcome);
        Assert.Contains("simulated kill", failed.Error, StringComparison.Ordinal);
        Assert.Equal(mark, await Db.CountAsync(host.DataSource, "SELECT high_water_mark FROM lakehouse_export_state WHERE table_name = $1", Bronze));
        var reread = IcebergTable.Load(table.LocalPath);
        Assert.Equal(before, reread.CurrentSnapshotId);
        Assert.Equal(30, NodeReaders.Iceberg(table.LocalPath).GetProperty("rows").GetArrayLength());

        var retried = await host.RunOkAsync("export-bronze");
        Assert.Equal(23, retried.RowsTouched);
        var rows = NodeReaders.Iceberg(table.LocalPath).GetProperty("rows");
        ExportExpectations.AssertRows(LakehouseTables.Bronze.Schema, await ExportExpectations.BronzeAsync(host.DataSource), rows, true, "after retry");

        // The dead attempt's files are orphans; expiry's sweep removes them and nothing the table references.
        var referenced = table.DataFiles().Select(f => f.LocalPath).ToHashSet();
        var parquet = Directory.EnumerateFiles(Path.Combine(table.LocalPath, "data"), "*.parquet", SearchOption.AllDirectories).ToList();
        Assert.True(parquet.Count > referenced.Count, "the interrupted commit left data files behind");
        foreach (var f in parquet.Where(p => !referenced.Contains(p))) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-1));
        await host.RunOkAsync("expire-snapshots");
        Assert.Equal(referenced.Order(), Directory.EnumerateFiles(Path.Combine(table.LocalPath, "data"), "*.parquet", SearchOption.AllDirectories).Order());
        Assert.Equal(53, NodeReaders.Iceberg(table.LocalPath).GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task A_crash_after_the_commit_but_before_the_mark_is_stored_does_not_export_rows_twice()
    {
        await using var host = await LakehouseHost.StartAsync("lhmark");
        await host.ApplyAsync(Impressions(0, 25));
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");
        var bronzeMark = await Db.CountAsync(host.DataSource, "SELECT high_water_mark FROM lakehouse_export_state WHERE table_name = $1", Bronze);
        var goldMark = await Db.CountAsync(host.DataSource, "SELECT high_water_mark FROM lakehouse_export_state WHERE table_name = $1", Gold);
        await host.ApplyAsync([.. Impressions(25, 10), .. Clicks([0, 1])]);
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");

        // As if the process died between the Iceberg commit and the mark update.
        await using (var rewind = host.DataSource.CreateCommand("UPDATE lakehouse_export_state SET high_water_mark = CASE table_name WHEN $1 THEN $2 ELSE $3 END"))
        {
            rewind.Parameters.Add(new() { Value = Bronze });
            rewind.Parameters.Add(new() { Value = bronzeMark });
            rewind.Parameters.Add(new() { Value = goldMark });
            await rewind.ExecuteNonQueryAsync();
        }

        Assert.Equal(0, (await host.RunOkAsync("export-bronze")).RowsTouched);
        Assert.Equal(0, (await host.RunOkAsync("export-gold")).RowsTouched);
        Assert.Equal(await Db.CountAsync(host.DataSource, "SELECT max(seq) FROM events"),
            await Db.CountAsync(host.DataSource, "SELECT high_water_mark FROM lakehouse_export_state WHERE table_name = $1", Bronze));
        await AssertTablesMatchPostgresAsync(host, "after the rewound mark");
    }

    [Fact]
    public async Task A_warehouse_exported_from_another_database_is_refused_with_a_clear_error_rather_than_taken_as_done()
    {
        await using var owner = await LakehouseHost.StartAsync("lhowner");
        await owner.ApplyAsync(Impressions(0, 40));
        await owner.RunOkAsync("export-bronze");
        await owner.RunOkAsync("export-gold");
        await using var other = await LakehouseHost.StartAsync("lhforeign",
            new Dictionary<string, string?> { ["Lakehouse:WarehousePath"] = owner.Warehouse });
        await other.ApplyAsync(Impressions(100, 5));

        foreach (var job in new[] { "export-bronze", "export-gold" })
        {
            var run = await other.RunAsync(job);

            Assert.NotEqual(MaintenanceJobs.Succeeded, run.Outcome);
            Assert.Contains("belongs to another database", run.Error, StringComparison.Ordinal);
        }

        Assert.Equal(0, await Db.CountAsync(other.DataSource, "SELECT count(*) FROM lakehouse_export_state WHERE high_water_mark > 0"));
        await AssertTablesMatchPostgresAsync(owner, "after the other database's attempts");
    }

    [Fact]
    public async Task Compaction_keeps_every_row_with_fewer_files_and_expiry_deletes_only_files_no_kept_snapshot_references()
    {
        await using var host = await LakehouseHost.StartAsync("lhcompact", new Dictionary<string, string?>
        {
            ["Lakehouse:SnapshotRetentionDays"] = "0",
            ["Lakehouse:RetainLastSnapshots"] = "1",
            ["Lakehouse:OrphanFileMinAgeMinutes"] = "0",
        });
        for (var round = 0; round < 4; round++)
        {
            await host.ApplyAsync([.. Impressions(round * 30, 30), .. Clicks(Enumerable.Range(0, round * 30).Where(i => i % 5 == round))]);
            await host.RunOkAsync("export-bronze");
            await host.RunOkAsync("export-gold");
        }

        var bronze = host.Catalog.Open(LakehouseTables.Bronze);
        var gold = host.Catalog.Open(LakehouseTables.Gold);
        int Live(IcebergTable t) => t.DataFiles().Count(f => f.Status != EntryStatus.Deleted);
        var (bronzeBefore, goldBefore) = (Live(bronze), Live(gold));

        var compact = await host.RunOkAsync("compact");
        var events = await Db.CountAsync(host.DataSource, "SELECT count(*) FROM events");
        Assert.InRange(compact.RowsTouched, events, events + 120); // every event, and the Gold rows of buckets with small files
        Assert.True(Live(bronze) < bronzeBefore, $"bronze: {Live(bronze)} files after, {bronzeBefore} before");
        Assert.True(Live(gold) < goldBefore, $"gold: {Live(gold)} files after, {goldBefore} before");
        Assert.Equal(3, Live(bronze)); // one file per hour partition
        Assert.Equal("replace", bronze.Snapshots().Single(s => s.IsCurrent).Operation);
        await AssertTablesMatchPostgresAsync(host, "after compaction");

        // Files only older snapshots reference go; every file of the current snapshot stays.
        static HashSet<string> Referenced(IcebergTable t)
        {
            var current = t.Snapshots().Single(s => s.IsCurrent);
            var files = t.DataFiles().Where(f => f.Status != EntryStatus.Deleted).Select(f => f.LocalPath).ToHashSet();
            files.Add(IcebergTable.ToLocal(current.ManifestList));
            foreach (var m in Manifests.ReadList(IcebergTable.ToLocal(current.ManifestList))) files.Add(IcebergTable.ToLocal(m.Path));
            return files;
        }

        static HashSet<string> OnDisk(IcebergTable t) => Directory.EnumerateFiles(t.LocalPath, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".parquet", StringComparison.Ordinal) || f.EndsWith(".avro", StringComparison.Ordinal)).ToHashSet();

        var keep = new[] { bronze, gold }.ToDictionary(t => t, Referenced);
        var before = new[] { bronze, gold }.ToDictionary(t => t, OnDisk);
        var expire = await host.RunOkAsync("expire-snapshots");
        foreach (var t in new[] { bronze, gold })
        {
            var after = OnDisk(t);
            Assert.True(keep[t].IsSubsetOf(after), $"{t.LocalPath}: a file of the current snapshot was deleted");
            Assert.Equal(keep[t].Order(), after.Order()); // and nothing else survives
            Assert.True(before[t].Count > after.Count);
            Assert.Single(t.Snapshots());
        }

        Assert.Equal(before.Values.Sum(b => b.Count) - keep.Values.Sum(k => k.Count), expire.FilesTouched);
        await AssertTablesMatchPostgresAsync(host, "after expiry");
    }
}
