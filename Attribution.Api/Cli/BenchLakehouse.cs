using System.Diagnostics;
using System.Globalization;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Lakehouse.Iceberg;
using Microsoft.Extensions.Options;

namespace Attribution.Api.Cli;

/// <summary>One timed lakehouse step: rows through it, files and bytes it left.</summary>
internal sealed record LakehouseStep(string Name, long Rows, double Seconds, double CpuSeconds, int FilesBefore, long BytesBefore, int FilesAfter, long BytesAfter)
{
    public double RowsPerSecond => Rows / Seconds;

    /// <summary>Rows per second of the process's CPU time: steadier than the wall clock on a machine shared with
    /// other work, since waiting for a core does not count.</summary>
    public double RowsPerCpuSecond => Rows / CpuSeconds;
}

internal sealed record LakehouseResult(IReadOnlyList<LakehouseStep> Steps, string Codec);

/// <summary>
/// The lakehouse writers on their own: synthetic Bronze and Gold rows streamed into the service's tables (the
/// catalog's options, 50 000-row snapshots as the exporters commit them), then Bronze compacted. The rows come from a
/// generator rather than PostgreSQL so that the time is the writers' (Parquet, manifests, commits), not the
/// database's; the generator costs the same in every build measured.
/// </summary>
internal static class BenchLakehouse
{
    private const int PageRows = 50_000;

    /// <summary><paramref name="settings"/> are Lakehouse:* settings (e.g. Compression) bound as the service binds them.</summary>
    public static LakehouseResult Run(long rows, IReadOnlyDictionary<string, string?> settings, Action<string> say)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"attribution-bench-lakehouse-{Guid.NewGuid():N}");
        using var removeFolder = new DirectoryRemoval(folder);
        var options = new LakehouseOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().Bind(options);
        options.WarehousePath = folder;
        var catalog = new LakehouseCatalog(Options.Create(options));
        var steps = new List<LakehouseStep>();

        var bronze = catalog.Open(LakehouseTables.Bronze);
        var row = new object?[LakehouseTables.Bronze.Schema.Fields.Count];
        steps.Add(Timed("Bronze export (append)", bronze, rows, say, () => Pages(rows, n => bronze.BeginAppend(), (write, i) =>
        {
            BronzeRow(i, row);
            write.Add(row);
        })));

        var gold = catalog.Open(LakehouseTables.Gold);
        var goldRow = new object?[LakehouseTables.Gold.Schema.Fields.Count];
        steps.Add(Timed("Gold export (overwrite by impression_id)", gold, rows, say, () => Pages(rows, n => gold.BeginOverwrite("impression_id"), (write, i) =>
        {
            GoldRow(i, goldRow);
            write.Add(goldRow);
        })));

        long compacted = 0;
        var compaction = Timed("Bronze compaction", bronze, 0, say, () => compacted = bronze.Compact()?.AddedRecords ?? 0);
        steps.Add(compaction with { Rows = compacted });
        return new LakehouseResult(steps, catalog.TableOptions.Compression.ToString());
    }

    private static void Pages(long rows, Func<long, TableWrite> begin, Action<TableWrite, long> add)
    {
        for (long start = 0; start < rows; start += PageRows)
        {
            using var write = begin(start);
            for (var i = start; i < Math.Min(rows, start + PageRows); i++) add(write, i);
            write.Commit();
        }
    }

    private static LakehouseStep Timed(string name, IcebergTable table, long rows, Action<string> say, Action step)
    {
        var (filesBefore, bytesBefore) = Live(table);
        say($"lakehouse: {name}");
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        step();
        clock.Stop();
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        var (filesAfter, bytesAfter) = Live(table);
        return new LakehouseStep(name, rows, clock.Elapsed.TotalSeconds, cpuSeconds, filesBefore, bytesBefore, filesAfter, bytesAfter);
    }

    private static (int Files, long Bytes) Live(IcebergTable table)
    {
        if (table.CurrentSnapshotId is null) return (0, 0);
        var live = table.DataFiles().Where(f => f.Status != EntryStatus.Deleted).ToList();
        return (live.Count, live.Sum(f => f.FileSizeBytes));
    }

    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Countries = ["US", "GB", "DE", "FR", "BR", "IN", "JP", "CA"];
    private static readonly string[] Platforms = ["IOS", "ANDROID", "WEB"];

    /// <summary>An event stream as the pipeline stores it: mostly impressions, some clicks and conversions, 200 events
    /// a second (so a 50 000-row page spans about four minutes and an hour partition takes 720 000 rows).</summary>
    private static void BronzeRow(long i, object?[] row)
    {
        var kind = i % 20 == 0 ? "CONVERSION" : i % 10 == 0 ? "CLICK" : "IMPRESSION";
        var time = Start.AddTicks(i * 50_000 + (i * 7919 % 10_000));
        var impression = $"imp-{i / 3:D10}";
        var campaign = $"cmp-{i % 50:D3}";
        var user = $"user-{i * 2654435761 % 100_000:D6}";
        var country = Countries[i % Countries.Length];
        var platform = Platforms[i % Platforms.Length];
        row[0] = $"evt-{i:D12}";
        row[1] = kind;
        row[2] = time;
        row[3] = impression;
        row[4] = campaign;
        row[5] = $"cr-{i % 400:D4}";
        row[6] = user;
        row[7] = country;
        row[8] = platform;
        row[9] = kind == "IMPRESSION" ? 0.25 + i % 100 / 100.0 : null;
        row[10] = kind == "CONVERSION" ? 10 + i % 90 : null;
        row[11] = kind == "CONVERSION" ? "purchase" : null;
        row[12] = kind == "CONVERSION" ? $"clk-{i - 10:D12}" : null;
        row[13] = time.AddMilliseconds(20 + i % 200);
        row[14] = (int)(i % 64);
        row[15] = i / 64;
        row[16] = i + 1;
        row[17] = (int)(i % 3) + 1;
        row[18] = string.Create(CultureInfo.InvariantCulture,
            $$"""{"event_id":"evt-{{i:D12}}","event_type":"{{kind}}","event_time":"{{time:O}}","impression_id":"{{impression}}","campaign_id":"{{campaign}}","creative_id":"cr-{{i % 400:D4}}","user_id":"{{user}}","geo_country":"{{country}}","platform":"{{platform}}","bid_price":{{0.25 + i % 100 / 100.0}}}""");
    }

    private static void GoldRow(long i, object?[] row)
    {
        var time = Start.AddTicks(i * 50_000);
        var clicked = i % 10 == 0;
        var converted = i % 40 == 0;
        row[0] = $"imp-{i:D10}";
        row[1] = $"cmp-{i % 50:D3}";
        row[2] = $"cr-{i % 400:D4}";
        row[3] = $"user-{i * 2654435761 % 100_000:D6}";
        row[4] = Countries[i % Countries.Length];
        row[5] = Platforms[i % Platforms.Length];
        row[6] = clicked;
        row[7] = converted;
        row[8] = time;
        row[9] = clicked ? time.AddSeconds(5 + i % 50) : null;
        row[10] = converted ? time.AddMinutes(10 + i % 100) : null;
        row[11] = 0.25 + i % 100 / 100.0;
        row[12] = converted ? 10.0 + i % 90 : 0.0;
        row[13] = true;
        row[14] = false;
        row[15] = 0L;
        row[16] = 0.0;
        row[17] = time.AddMinutes(1);
    }
}
