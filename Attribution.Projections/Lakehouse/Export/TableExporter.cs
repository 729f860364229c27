using System.Globalization;
using Attribution.Domain.Events;
using Attribution.Projections.EventStore;
using Attribution.Projections.Lakehouse.Iceberg;
using Marten;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>What one export run did.</summary>
public sealed record ExportResult(string Table, long Rows, int Snapshots, long FilesAdded, long FilesRemoved, long FromMark, long ToMark);

/// <summary>
/// Copies rows whose source marker lies above the table's high-water mark into an Iceberg snapshot, one snapshot per
/// page, and advances the mark only after that snapshot is committed. Each snapshot's summary carries the marker range
/// it covers (<c>attribution.&lt;mark&gt;-from</c>/<c>-to</c>); on start the exporter takes the larger of the stored
/// mark and the newest range in the table's lineage, so a crash between the commit and the mark update cannot
/// export a range twice, and a crash before the commit leaves only unreferenced files (swept by expiry).
/// </summary>
public abstract class TableExporter(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics, IOptions<LakehouseOptions> options, ILogger logger)
{
    public abstract LakehouseTableDefinition Definition { get; }

    /// <summary>The marker's name in snapshot summaries, e.g. <c>seq</c>.</summary>
    protected abstract string MarkName { get; }

    /// <summary>The current maximum of the source marker, read under the export barrier.</summary>
    protected abstract string MaxMarkSql { get; }

    /// <summary>The last value the marker's sequence handed out (0 before the first): no export of this database
    /// can have gone past it.</summary>
    protected abstract string SequenceSql { get; }

    /// <summary>The advisory lock every writer of the source holds for its whole transaction (see ExportBarrier).</summary>
    protected virtual long BarrierLock => BatchApplier.RebuildLock;

    /// <summary>Whether each snapshot holds exactly the rows of one marker value (a dimension's SCD2 merge): then a
    /// page is the rows of the next marker, whatever their number, and the next page starts after it.</summary>
    protected virtual bool SnapshotPerMark => false;

    /// <summary>How a page lands in the table: an append, or an overwrite by key.</summary>
    protected abstract TableWrite BeginWrite(IcebergTable table);

    public string FromKey => $"attribution.{MarkName}-from";

    public string ToKey => $"attribution.{MarkName}-to";

    public async Task<ExportResult> ExportAsync(Action<double, string>? progress, CancellationToken ct)
    {
        var name = Definition.QualifiedName;
        await using var tableLock = await LakehouseLocks.AcquireAsync(dataSource, name, ct);
        var table = catalog.Open(Definition);
        table.Refresh();

        var stored = (await state.ReadAsync(name, ct))?.HighWaterMark ?? 0;
        if (table.CurrentSnapshotId is null && stored > 0)
        {
            // A table without snapshots next to a stored mark is a new warehouse (the folder was moved or wiped).
            logger.LogWarning("{Table} has no snapshot but was exported up to {Mark}; exporting again from the start", name, stored);
            await state.ResetAsync(name, ct);
            stored = 0;
        }

        var committed = LastCommittedMark(table, ToKey) ?? 0;
        await using (var conn = await dataSource.OpenConnectionAsync(ct))
        await using (var cmd = new NpgsqlCommand(SequenceSql, conn))
        {
            var handedOut = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            // Taking such a lineage as "exported up to here" would skip every row below its mark without a word.
            if (committed > handedOut)
                throw new InvalidOperationException(
                    $"{name} in the warehouse {catalog.WarehousePath} holds rows up to {MarkName} {committed}, beyond anything this " +
                    $"database has handed out ({handedOut}): the warehouse belongs to another database, or this one was restored " +
                    "from an older backup. Point Lakehouse:WarehousePath at this database's own warehouse, or move the folder " +
                    "away to export everything again from the start.");
        }

        if (committed > stored)
        {
            logger.LogWarning("{Table}: snapshot {Snapshot} holds rows up to {Mark} but the stored mark is {Stored} (a crash after the commit); continuing from {Mark}",
                name, table.CurrentSnapshotId, committed, stored, committed);
            await state.AdvanceAsync(name, committed, table.CurrentSnapshotId, 0, ct);
        }

        var from = Math.Max(stored, committed);
        var upTo = await ExportBarrier.ReadAsync(dataSource, MaxMarkSql, TimeSpan.FromSeconds(options.Value.BarrierTimeoutSeconds), ct, BarrierLock);
        var batch = Math.Max(1, options.Value.ExportBatchRows);
        long mark = from, rows = 0, added = 0, removed = 0;
        var snapshots = 0;
        while (mark < upTo)
        {
            var (pageRows, pageEnd, commit) = await ExportPageAsync(table, mark, upTo, batch, ct);
            // The snapshot is durable now; the mark must follow even if the run is being cancelled.
            await state.AdvanceAsync(name, pageEnd, commit?.SnapshotId, pageRows, CancellationToken.None);
            snapshots += commit is null ? 0 : 1;
            added += commit?.AddedFiles ?? 0;
            removed += commit?.DeletedFiles ?? 0;
            rows += pageRows;
            mark = pageEnd;
            progress?.Invoke(upTo == from ? 1 : (double)(mark - from) / (upTo - from),
                string.Create(CultureInfo.InvariantCulture, $"{name}: {rows:N0} rows in {snapshots} snapshots, {MarkName} {mark} of {upTo}"));
            ct.ThrowIfCancellationRequested();
        }

        return new ExportResult(name, rows, snapshots, added, removed, from, mark);
    }

    /// <summary>Hands each row with <c>after &lt; mark &lt;= upTo</c> to <paramref name="add"/> with its mark, in mark
    /// order, at most <paramref name="limit"/>, the table's columns in schema order, one row array reused.</summary>
    protected abstract Task ReadPageAsync(long after, long upTo, int limit, Action<long, object?[]> add, CancellationToken ct);

    /// <summary><see cref="ReadPageAsync"/> from a page query: the marker, then the table's columns in schema order, for
    /// rows with <c>$1 &lt; mark &lt;= $2</c> in mark order, at most <c>$3</c>.</summary>
    protected async Task ReadSqlPageAsync(string pageSql, long after, long upTo, int limit, Action<long, object?[]> add, CancellationToken ct)
    {
        var row = new object?[Definition.Schema.Fields.Count];
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var cmd = new NpgsqlCommand(pageSql, conn);
        cmd.Parameters.Add(new() { Value = after });
        cmd.Parameters.Add(new() { Value = upTo });
        cmd.Parameters.Add(new() { Value = limit });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            for (var c = 0; c < row.Length; c++) row[c] = reader.IsDBNull(c + 1) ? null : reader.GetValue(c + 1);
            add(reader.GetInt64(0), row);
        }
    }

    /// <summary>The newest export range in the current snapshot's lineage (compactions carry none and are stepped over).</summary>
    public static long? LastCommittedMark(IcebergTable table, string key)
    {
        ArgumentNullException.ThrowIfNull(table);
        var byId = table.Snapshots().ToDictionary(s => s.SnapshotId);
        var id = table.CurrentSnapshotId;
        while (id is { } current && byId.TryGetValue(current, out var snapshot))
        {
            if (snapshot.Summary.TryGetValue(key, out var value) &&
                long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var mark))
                return mark;
            id = snapshot.ParentSnapshotId;
        }

        return null;
    }

    /// <summary>
    /// Streams one page from PostgreSQL into one snapshot: each row goes from the reader into its data file, so an
    /// export holds a row at a time, not a page of them (a 50 000-row page of boxed values was the process's
    /// biggest allocation, every minute). Column values go in as Npgsql hands them out; the table canonicalises
    /// them (numeric to double, times to micros).
    /// </summary>
    private async Task<(long Rows, long PageEnd, CommitResult? Commit)> ExportPageAsync(
        IcebergTable table, long after, long upTo, int limit, CancellationToken ct)
    {
        using var write = BeginWrite(table);
        var last = after;
        await ReadPageAsync(after, upTo, limit, (mark, row) =>
        {
            last = mark;
            write.Add(row);
        }, ct);

        // A short page means nothing else lies at or below the barrier; gaps left by rolled-back writers are skipped.
        var pageEnd = SnapshotPerMark
            ? write.Rows == 0 ? upTo : last
            : write.Rows < limit ? upTo : last;
        var commit = write.Commit(new Dictionary<string, string>
        {
            [FromKey] = (after + 1).ToString(CultureInfo.InvariantCulture),
            [ToKey] = pageEnd.ToString(CultureInfo.InvariantCulture),
        });
        if (commit is not null) metrics.Committed(Definition.QualifiedName, table, commit);
        return (write.Rows, pageEnd, commit);
    }
}

/// <summary>Marten's event store → <c>bronze.ad_events</c>: appends, high-water mark on Marten's event sequence.</summary>
public sealed class BronzeExporter(
    NpgsqlDataSource dataSource, IDocumentStore store, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics,
    IOptions<LakehouseOptions> options, ILogger<BronzeExporter> logger)
    : TableExporter(dataSource, catalog, state, metrics, options, logger)
{
    public override LakehouseTableDefinition Definition => LakehouseTables.Bronze;

    protected override string MarkName => "seq";

    protected override string MaxMarkSql => "SELECT coalesce(max(seq), 0) FROM events";

    protected override string SequenceSql =>
        "SELECT coalesce(pg_sequence_last_value('mt_events_sequence'::regclass), 0)";

    /// <summary>The page's events as Marten reads them (its raw event query, streamed), in sequence order, as Bronze
    /// rows in the schema's column order (LakehouseTables.Bronze).</summary>
    protected override async Task ReadPageAsync(long after, long upTo, int limit, Action<long, object?[]> add, CancellationToken ct)
    {
        var row = new object?[Definition.Schema.Fields.Count];
        await using var session = store.QuerySession();
        var page = session.Events.QueryAllRawEvents()
            .Where(e => e.Sequence > after && e.Sequence <= upTo)
            .OrderBy(e => e.Sequence)
            .Take(limit);
        await foreach (var e in page.ToAsyncEnumerable(ct))
        {
            BronzeRow(ImpressionHistory.Stored(e), row);
            add(e.Sequence, row);
        }
    }

    private static void BronzeRow(StoredEvent stored, object?[] row)
    {
        var e = stored.Event;
        row[0] = e.EventId;
        row[1] = e.Type.ToWire();
        row[2] = e.EventTime;
        row[3] = e.ImpressionId;
        row[4] = e.CampaignId;
        row[5] = e.CreativeId;
        row[6] = e.UserId;
        row[7] = e.GeoCountry;
        row[8] = e.Platform;
        row[9] = (e as ImpressionServed)?.BidPrice;
        row[10] = (e as ConversionReported)?.ConversionValue;
        row[11] = (e as ConversionReported)?.ConversionType;
        row[12] = (e as ConversionReported)?.ClickId;
        row[13] = e.IngestTime;
        row[14] = stored.KafkaPartition;
        row[15] = stored.KafkaOffset;
        row[16] = stored.Sequence;
        row[17] = stored.StreamVersion;
        row[18] = stored.RawPayload;
        row[19] = e.IpAddress;
        row[20] = e.UserAgent;
    }

    protected override TableWrite BeginWrite(IcebergTable table) => table.BeginAppend();
}

/// <summary>
/// ad_performance_state → <c>gold.ad_performance_state</c>: rows changed since the last export replace their
/// previous versions by impression_id (copy-on-write overwrite), high-water mark on change_seq. Re-exporting a row
/// replaces it with itself, so Gold needs the range bookkeeping only to avoid redoing work.
/// </summary>
public sealed class GoldExporter(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics, IOptions<LakehouseOptions> options,
    ILogger<GoldExporter> logger)
    : TableExporter(dataSource, catalog, state, metrics, options, logger)
{
    public override LakehouseTableDefinition Definition => LakehouseTables.Gold;

    protected override string MarkName => "change-seq";

    protected override string MaxMarkSql => "SELECT coalesce(max(change_seq), 0) FROM ad_performance_state";

    protected override string SequenceSql =>
        "SELECT coalesce(pg_sequence_last_value('ad_performance_state_change_seq'::regclass), 0)";

    // impression_id is the table's primary key, so a page holds each key once, as an overwrite needs.
    protected override Task ReadPageAsync(long after, long upTo, int limit, Action<long, object?[]> add, CancellationToken ct) =>
        ReadSqlPageAsync(PageSql, after, upTo, limit, add, ct);

    private const string PageSql = """
        SELECT change_seq, impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked, is_converted,
               impression_time, click_time, conversion_time, cost, revenue, eligible, is_late, late_by_ms,
               revenue_out_of_window, last_updated_ts, click_count, invalid_click_count, fraud_suspected, fraud_reasons
        FROM ad_performance_state WHERE change_seq > $1 AND change_seq <= $2 ORDER BY change_seq LIMIT $3
        """;

    protected override TableWrite BeginWrite(IcebergTable table) => table.BeginOverwrite("impression_id");
}
