using System.Globalization;
using Attribution.Projections.Config;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Projections.Fraud;
using Attribution.Projections.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.EventStore;

/// <summary>Configuration section "Retention".</summary>
public sealed class RetentionOptions
{
    /// <summary>Impressions whose newest event (by event time and by arrival) is older than this are retired once
    /// exported. Must be at least the attribution lookback, or a conversion could still arrive for one of them.</summary>
    public double Days { get; set; } = 30;

    /// <summary>Impressions retired per transaction; ingest waits for each one, so keep it small.</summary>
    public int BatchImpressions { get; set; } = 2000;

    /// <summary>Events read per step of the scan for candidates.</summary>
    public int ScanPageRows { get; set; } = 20_000;

    /// <summary>How long a retirement transaction waits for in-flight ingest batches (or a replay).</summary>
    public double LockTimeoutSeconds { get; set; } = 30;
}

public sealed record RetentionResult(long Impressions, long Events, long ScannedEvents, DateTimeOffset Cutoff, string? Skipped = null);

/// <summary>
/// Drops old history from the events table, a whole impression at a time. The event store is one table whose
/// event_id and (stream_id, stream_version) keys must stay unique over all of it, which PostgreSQL cannot enforce
/// across partitions, and an impression's events can span any time range; so instead of dropping time partitions,
/// retention deletes the events of impressions that are completely old and completely exported:
/// <list type="bullet">
/// <item>every event older than <see cref="RetentionOptions.Days"/> by event time and by arrival;</item>
/// <item>every event in bronze.ad_events (seq at or below the Bronze high-water mark);</item>
/// <item>its Gold row exported as it is now (change_seq at or below the Gold high-water mark).</item>
/// </list>
/// The Gold row stays. The event ids move to retired_event_ids (dedup is forever), the impression to
/// retired_impressions (a late event for it is audited, never folded; see <see cref="RetiredImpressions"/>). Each
/// chunk runs under the ingest lock held exclusively, so no batch can add an event to an impression being retired.
/// </summary>
public sealed class EventRetention(
    NpgsqlDataSource dataSource,
    AttributionConfigStore config,
    ExportStateStore exports,
    IOptions<RetentionOptions> options,
    TimeProvider clock,
    ILogger<EventRetention> logger)
{
    public async Task<RetentionResult> RunAsync(Action<double, string>? progress, CancellationToken ct)
    {
        var o = options.Value;
        var policy = await config.ReadAsync(ct);
        if (o.Days < policy.Lookback.TotalDays)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Retention:Days ({o.Days}) is shorter than the attribution lookback ({policy.Lookback.TotalDays} days): a conversion could still arrive for an impression it would retire."));
        }

        var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(o.Days);
        var bronze = (await exports.ReadAsync(LakehouseTables.Bronze.QualifiedName, ct))?.HighWaterMark ?? 0;
        var gold = (await exports.ReadAsync(LakehouseTables.Gold.QualifiedName, ct))?.HighWaterMark ?? 0;
        if (bronze == 0) return new RetentionResult(0, 0, 0, cutoff, "nothing is exported to bronze.ad_events yet");

        long scanned = 0, impressions = 0, events = 0, after = 0;
        var candidates = new HashSet<string>(StringComparer.Ordinal);
        var pageRows = Math.Max(100, o.ScanPageRows);
        var done = false;
        while (!done)
        {
            // Oldest first, through the primary key; the scan stops where events arrived after the cutoff, since seq
            // follows arrival. Everything read here is checked again under the lock before anything is deleted.
            var page = 0;
            await using (var cmd = dataSource.CreateCommand(
                "SELECT seq, stream_id, event_time, appended_at FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"))
            {
                cmd.Parameters.Add(new() { Value = after });
                cmd.Parameters.Add(new() { Value = bronze });
                cmd.Parameters.Add(new() { Value = pageRows });
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    page++;
                    after = reader.GetInt64(0);
                    if (reader.GetFieldValue<DateTimeOffset>(3) >= cutoff)
                    {
                        done = true;
                        break;
                    }

                    if (reader.GetFieldValue<DateTimeOffset>(2) < cutoff) candidates.Add(reader.GetString(1));
                }
            }

            scanned += page;
            if (page < pageRows) done = true;
            if (candidates.Count >= o.BatchImpressions || (done && candidates.Count > 0))
            {
                var (i, e) = await RetireAsync(candidates.ToArray(), cutoff, bronze, gold, TimeSpan.FromSeconds(o.LockTimeoutSeconds), ct);
                impressions += i;
                events += e;
                candidates.Clear();
            }

            progress?.Invoke(Math.Min(1, (double)after / bronze),
                string.Create(CultureInfo.InvariantCulture, $"{impressions:N0} impressions ({events:N0} events) retired, {scanned:N0} events scanned"));
        }

        if (impressions > 0)
            logger.LogInformation("Retention retired {Impressions} impressions ({Events} events) older than {Cutoff:u}", impressions, events, cutoff);
        return new RetentionResult(impressions, events, scanned, cutoff);
    }

    private async Task<(long Impressions, long Events)> RetireAsync(
        string[] candidates, DateTimeOffset cutoff, long bronzeMark, long goldMark, TimeSpan lockTimeout, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        async Task<int> Exec(string sql, params object[] args)
        {
            await using var cmd = new NpgsqlCommand(sql, conn, tx);
            foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
            return await cmd.ExecuteNonQueryAsync(ct);
        }

        await Exec("SELECT set_config('lock_timeout', $1, true)", ((long)lockTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms");
        await Exec("SELECT pg_advisory_xact_lock($1)", BatchApplier.RebuildLock);

        // Whole impressions only: the conditions hold for the newest event, so they hold for all of them.
        var retire = new List<string>();
        await using (var select = new NpgsqlCommand("""
            SELECT e.stream_id FROM events e WHERE e.stream_id = ANY($1)
            GROUP BY e.stream_id
            HAVING max(e.event_time) < $2 AND max(e.appended_at) < $2 AND max(e.seq) <= $3
               AND NOT EXISTS (SELECT 1 FROM ad_performance_state g WHERE g.impression_id = e.stream_id AND g.change_seq > $4)
            """, conn, tx))
        {
            select.Parameters.Add(new() { Value = candidates });
            select.Parameters.Add(new() { Value = cutoff });
            select.Parameters.Add(new() { Value = bronzeMark });
            select.Parameters.Add(new() { Value = goldMark });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) retire.Add(reader.GetString(0));
        }

        if (retire.Count == 0) return (0, 0);
        var ids = retire.ToArray();
        await Exec("""
            INSERT INTO retired_impressions (impression_id, events, last_seq, last_event_time)
            SELECT stream_id, count(*), max(seq), max(event_time) FROM events WHERE stream_id = ANY($1) GROUP BY stream_id
            ON CONFLICT (impression_id) DO NOTHING
            """, (object)ids);
        await Exec("""
            INSERT INTO retired_event_ids (event_id, impression_id, event_type)
            SELECT event_id, stream_id, event_type FROM events WHERE stream_id = ANY($1)
            ON CONFLICT (event_id) DO NOTHING
            """, (object)ids);
        long retired;
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM mt_events WHERE stream_id = ANY($1) AND NOT is_archived", conn, tx))
        {
            count.Parameters.Add(new() { Value = ids });
            retired = (long)(await count.ExecuteScalarAsync(ct))!;
        }

        // Marten's stream archiving: the events leave the live store (and the events view) and stay in mt_events,
        // marked archived, where Marten's archived-event queries still read them.
        await Exec("SELECT mt_archive_stream(id) FROM unnest($1::varchar[]) id", (object)ids);
        await JudgedClicks.ForgetAsync(conn, tx, ids, ct);
        await tx.CommitAsync(ct);
        return (retire.Count, (int)retired);
    }
}
