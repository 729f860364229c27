using System.Text;
using System.Text.Json.Nodes;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Pipeline;

/// <summary>One batch, one transaction: dedup, parking of postbacks, derived audit replacement, offsets.</summary>
public sealed class BatchApplierTests : IAsyncLifetime
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);
    private readonly string _connectionString = TestPostgres.NewDatabase("batch");
    private EngineHost _engine = null!;
    private BatchApplier _applier = null!;
    private long _offset;

    public async Task InitializeAsync()
    {
        _engine = await EngineHost.StartAsync(EngineHost.Settings(_connectionString, "unused"), runConsumer: false);
        _applier = _engine.Services.GetRequiredService<BatchApplier>();
    }

    public async Task DisposeAsync()
    {
        await _engine.DisposeAsync();
        TestPostgres.Drop(_connectionString);
    }

    private Task<BatchResult> Apply(params JsonObject[] events) =>
        _applier.ApplyAsync("g", "t", "cluster-1", events.Select(e =>
            new KafkaRecord(0, _offset++, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList(), CancellationToken.None);

    [Fact]
    public async Task Delivering_the_same_events_twice_changes_nothing_and_audits_each_repeat()
    {
        JsonObject[] events = [Impression("i-1", "e1", 0 * S), Click("i-1", "e2", 5 * S), Conversion("i-1", "e3", 9 * S, 12.5m)];
        await Apply(events);
        var gold = await Db.GoldSnapshotAsync(_engine.DataSource);

        var again = await Apply(events);

        Assert.Equal(3, again.Duplicates);
        Assert.Equal(0, again.Applied);
        Assert.Equal(gold, await Db.GoldSnapshotAsync(_engine.DataSource));
        Assert.Equal(3, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM events"));
        Assert.Equal(3, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE reason = 'DUPLICATE_EVENT'"));
    }

    [Fact]
    public async Task A_new_impression_is_inserted_and_a_known_one_updated_each_with_its_write_time_and_a_new_change_marker()
    {
        var before = DateTime.UtcNow.AddSeconds(-1);
        await Apply(Impression("i-9", "e90", 0 * S));
        var inserted = await Db.CountAsync(_engine.DataSource, "SELECT change_seq FROM ad_performance_state WHERE impression_id = 'i-9'");

        await Apply(Click("i-9", "e91", 5 * S), Impression("i-10", "e92", 0 * S));

        Assert.Equal(2, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM ad_performance_state"));
        Assert.True(await Db.CountAsync(_engine.DataSource, "SELECT change_seq FROM ad_performance_state WHERE impression_id = 'i-9'") > inserted);
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_id = 'i-9' AND is_clicked AND stream_version = 2"));
        Assert.Equal(2, await Db.CountAsync(_engine.DataSource,
            "SELECT count(*) FROM ad_performance_state WHERE last_updated_ts BETWEEN $1 AND now()", before));
    }

    [Fact]
    public async Task A_backlog_batch_probes_the_events_and_Gold_by_key_where_the_planner_would_scan_them_whole()
    {
        await Apply([.. Enumerable.Range(0, 3000).Select(i => Impression($"s-{i}", $"s-e{i}", 0 * S))]);
        await using (var analyze = _engine.DataSource.CreateCommand("ANALYZE mt_events; ANALYZE ad_performance_state"))
            await analyze.ExecuteNonQueryAsync();
        // The premise: a plain session would read these 2 000 keys by scanning both tables.
        var keys = Enumerable.Range(0, 2000).Select(i => $"s-{i}").ToArray();
        foreach (var table in new[] { "events WHERE stream_id", "ad_performance_state WHERE impression_id" })
        {
            await using var explain = _engine.DataSource.CreateCommand($"EXPLAIN SELECT * FROM {table} = ANY($1)");
            explain.Parameters.Add(new() { Value = keys });
            Assert.Contains("Seq Scan", (string)(await explain.ExecuteScalarAsync())!, StringComparison.Ordinal);
        }

        var before = await FlushedScansAsync();
        await Apply([.. Enumerable.Range(0, 2000).Select(i => i % 2 == 0 ? Click($"s-{i}", $"s-c{i}", 5 * S) : Impression($"t-{i}", $"t-e{i}", 0 * S))]);
        var after = await FlushedScansAsync();

        Assert.Equal((before.EventsSeq, before.GoldSeq), (after.EventsSeq, after.GoldSeq));
        Assert.True(after.EventsIdx > before.EventsIdx && after.GoldIdx > before.GoldIdx, "the batch read both tables by key");
        Assert.Equal(1000, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE is_clicked"));
    }

    [Fact]
    public async Task Adding_deltas_to_rollup_cells_is_a_heap_only_update_that_writes_no_index_entry()
    {
        // 600 cells: several pages of each full-tier table, which full pages would leave no room to update in place.
        await Apply([.. Enumerable.Range(0, 600).Select(i => Impression($"h-{i}", $"h-e{i}", 0 * S, campaign: $"camp-{i}"))]);
        await Apply([.. Enumerable.Range(0, 600).Select(i => Click($"h-{i}", $"h-c{i}", 5 * S))]);
        // The conversions find room on the pages only once the cell versions the clicks replaced can be pruned. A
        // transaction begun before the clicks committed prevents that: one of this database by its snapshot, one of any
        // database (another test's long write) because the conversion batch's own snapshot would then reach back past
        // the clicks. Wait until none is left.
        await Eventually.TrueAsync(async () => await Db.CountAsync(_engine.DataSource, """
                WITH clicks AS (SELECT max(xmin::text::bigint) AS xid FROM metrics_hourly)
                SELECT count(*) FROM pg_stat_activity, clicks
                WHERE pid <> pg_backend_pid()
                  AND (backend_xid::text::bigint <= clicks.xid
                       OR (datname = current_database() AND backend_xmin::text::bigint <= clicks.xid))
                """) == 0,
            "no transaction begun before the click batch committed is still running");
        await Apply([.. Enumerable.Range(0, 600).Select(i => Conversion($"h-{i}", $"h-v{i}", 9 * S, 2m))]);
        await FlushStatisticsAsync();

        await using var cmd = _engine.DataSource.CreateCommand("""
            SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
            WHERE schemaname = current_schema() AND relname IN ('metrics_hourly', 'metrics_daily', 'metrics_weekly')
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        var tables = 0;
        while (await reader.ReadAsync())
        {
            tables++;
            var (table, updates, hot) = (reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2));
            Assert.True(updates >= 1200, $"{table}: {updates} updates");
            Assert.True(hot >= updates * 95 / 100, $"{table}: {hot} of {updates} updates were heap-only");
        }

        Assert.Equal(3, tables);
    }

    /// <summary>A backend reports its table statistics when it ends: close the pool's connections and wait until every
    /// other backend of this database is gone.</summary>
    private async Task FlushStatisticsAsync()
    {
        _engine.DataSource.Clear();
        await Eventually.TrueAsync(async () => await Db.CountAsync(_engine.DataSource,
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") == 0,
            "every other backend of this database has ended and reported its statistics");
    }

    private async Task<(long EventsSeq, long EventsIdx, long GoldSeq, long GoldIdx)> FlushedScansAsync()
    {
        await FlushStatisticsAsync();
        await using var cmd = _engine.DataSource.CreateCommand("""
            SELECT sum(seq_scan) FILTER (WHERE relname = 'mt_events'), sum(idx_scan) FILTER (WHERE relname = 'mt_events'),
                   sum(seq_scan) FILTER (WHERE relname = 'ad_performance_state'), sum(idx_scan) FILTER (WHERE relname = 'ad_performance_state')
            FROM pg_stat_user_tables WHERE schemaname = current_schema()
            """);
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    [Fact]
    public async Task An_event_is_stored_with_its_payload_exactly_as_it_arrived()
    {
        // Spacing and unescaped non-ASCII text, as a tracker may send them.
        var json = Impression("i-raw", "e-raw", 0 * S).ToJsonString();
        var sent = json[..^1].Replace(",", " ,  ", StringComparison.Ordinal) + ", \"meta\": {\"note\": \"café ✓ \\\"q\\\"\"}}";

        await _applier.ApplyAsync("g", "t", "cluster-1",
            [new KafkaRecord(0, _offset++, null, Encoding.UTF8.GetBytes(sent), T0)], CancellationToken.None);

        await using var cmd = _engine.DataSource.CreateCommand("SELECT raw_payload::text FROM events WHERE event_id = 'e-raw'");
        Assert.Equal(sent, (string?)await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_repeat_within_one_batch_is_a_duplicate_too()
    {
        var result = await Apply(Impression("i-2", "e10", 0 * S), Impression("i-2", "e10", 0 * S));

        Assert.Equal(1, result.Applied);
        Assert.Equal(1, result.Duplicates);
    }

    [Fact]
    public async Task A_postback_for_an_unknown_click_is_kept_and_applied_when_the_click_arrives()
    {
        await Apply(Impression("i-3", "e20", 0 * S));
        var parked = await Apply(Conversion(null, "e22", 30 * S, 40m, clickId: "e21"));
        Assert.Equal(1, parked.Parked);
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE reason = 'UNKNOWN_CLICK_ID' AND event_id = 'e22'"));

        await Apply(Click("i-3", "e21", 10 * S));

        Assert.Equal(0, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM pending_conversions"));
        Assert.Equal(0, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'e22'"));
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_id = 'i-3' AND is_converted AND revenue = 40"));
    }

    [Fact]
    public async Task A_postback_for_a_known_click_is_applied_to_the_click_impression()
    {
        await Apply(Impression("i-4", "e30", 0 * S), Click("i-4", "e31", 10 * S));

        await Apply(Conversion(null, "e32", 30 * S, 7m, clickId: "e31"));

        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM events WHERE event_id = 'e32' AND stream_id = 'i-4'"));
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_id = 'i-4' AND revenue = 7"));
    }

    [Fact]
    public async Task Derived_audit_outcomes_are_replaced_when_the_impression_changes()
    {
        await Apply(Impression("i-5", "e40", 0 * S), Conversion("i-5", "e42", 60 * S, 3m));
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'e42' AND reason = 'NO_PRIOR_CLICK'"));

        await Apply(Click("i-5", "e41", 30 * S));

        Assert.Equal(0, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'e42'"));
    }

    [Fact]
    public async Task A_message_that_is_not_an_event_is_audited_invalid_with_its_payload_and_its_offset_is_stored()
    {
        var records = new List<KafkaRecord> { new(3, 77, null, Encoding.UTF8.GetBytes("{not json"), T0) };

        var result = await _applier.ApplyAsync("g", "t", "cluster-1", records, CancellationToken.None);

        Assert.Equal(1, result.Invalid);
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE reason = 'INVALID' AND raw_payload = '{not json' AND kafka_offset = 77"));
        Assert.Equal(78, await Db.CountAsync(_engine.DataSource, "SELECT next_offset FROM kafka_offsets WHERE kafka_partition = 3"));
    }

    [Fact]
    public async Task Offsets_stored_for_another_cluster_are_not_applied()
    {
        await Apply(Impression("i-6", "e50", 0 * S));
        await using var conn = await _engine.DataSource.OpenConnectionAsync();

        Assert.NotEmpty(await OffsetStore.ReadAsync(conn, "g", "t", "cluster-1", CancellationToken.None));
        Assert.Empty(await OffsetStore.ReadAsync(conn, "g", "t", "cluster-2", CancellationToken.None));
    }

    [Fact]
    public async Task Messages_the_database_could_not_store_as_they_are_are_audited_and_never_wedge_the_pipeline()
    {
        var records = new List<KafkaRecord>
        {
            new(1, 1, null, [0x7B, 0x00, 0xFF, 0x7D], T0),
            new(1, 2, null, Encoding.UTF8.GetBytes($$"""{"event_id":"long","event_type":"CLICK","impression_id":"{{new string('x', 5000)}}"}"""), T0),
            new(1, 3, null, Encoding.UTF8.GetBytes("""{"event_id":"nul","event_type":"CLICK","impression_id":"a\u0000b"}"""), T0),
            new(1, 4, null, Encoding.UTF8.GetBytes("""{"event_id":"ok","event_type":"CLICK","impression_id":"fine"}"""), T0),
        };

        var result = await _applier.ApplyAsync("g", "t", "cluster-1", records, CancellationToken.None);

        Assert.Equal(3, result.Invalid);
        Assert.Equal(1, result.Applied);
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'long' AND detail LIKE 'impression_id is longer%'"));
        Assert.Equal(1, await Db.CountAsync(_engine.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'nul' AND detail LIKE '%NUL%'"));
        Assert.Equal(5, await Db.CountAsync(_engine.DataSource, "SELECT next_offset FROM kafka_offsets WHERE kafka_partition = 1"));
    }
}
