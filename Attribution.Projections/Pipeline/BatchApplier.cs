using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Audit;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Fraud;
using Attribution.Projections.Gold;
using Attribution.Projections.Observability;
using Attribution.Projections.Rollups;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Pipeline;

public sealed record BatchResult(int Messages, int Applied, int Duplicates, int Invalid, int Parked, int Impressions);

/// <summary>
/// Applies one batch of Kafka messages in one PostgreSQL transaction: append new events, audit duplicates and
/// invalid ones, fold every touched impression into Gold, replace its derived audit outcomes, and store the
/// consumed offsets. A crash anywhere leaves either all of it or none of it.
/// </summary>
public sealed class BatchApplier(
    NpgsqlDataSource dataSource, EventStoreWriter eventStore, AttributionConfigStore config, PipelineMetrics metrics, ILogger<BatchApplier> logger)
{
    /// <summary>Replay takes this lock exclusively; every batch takes it shared, so the two never interleave.</summary>
    public const long RebuildLock = 0x4174_7472_0001;

    /// <summary>Postbacks parked for an unknown click take this exclusively and click-carrying batches shared, so a
    /// click and its parked conversion can never pass each other in two concurrent transactions.</summary>
    public const long ClickResolutionLock = 0x4174_7472_0002;

    public async Task<BatchResult> ApplyAsync(
        string group, string topic, string clusterId, IReadOnlyList<KafkaRecord> records, CancellationToken ct)
    {
        var parsed = Parse(records);
        // Every log line about this batch, the failures above all, carries where it came from and which events it held.
        using var scope = logger.BeginScope(BatchScope(topic, records, parsed));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var sw = Stopwatch.StartNew();
                var result = await ApplyOnceAsync(group, topic, clusterId, records, parsed, ct);
                metrics.ApplyLatency.Observe(sw.Elapsed.TotalSeconds);
                metrics.BatchSize.Observe(records.Count);
                return result;
            }
            catch (Exception e) when (!IsRetriable(e, ct) && LogFailure(e, records.Count))
            {
                // Not reached: the filter logs inside the batch's scope and declines, so the exception propagates.
                throw;
            }
            catch (Exception e) when (IsRetriable(e, ct))
            {
                // Nothing was committed: a concurrent writer of the same stream. Retry the whole batch; never skip it.
                metrics.BatchRetries.Inc();
                var delay = TimeSpan.FromMilliseconds(Math.Min(5000, 50 * Math.Pow(2, Math.Min(attempt, 7))));
                logger.LogWarning(e, "Batch of {Count} messages (partitions {Partitions}) failed on attempt {Attempt}; retrying in {Delay}",
                    records.Count, string.Join(",", records.Select(r => r.Partition).Distinct()), attempt, delay);
                await Task.Delay(delay, ct);
            }
        }
    }

    /// <summary>PostgreSQL being away is not retried here: the caller owns that wait (the consumer keeps polling Kafka
    /// with its partitions paused meanwhile, so it stays in its group), and the batch fails at once with nothing
    /// committed.</summary>
    private static bool IsRetriable(Exception e, CancellationToken ct) =>
        e is NpgsqlException or TimeoutException && !PostgresOutage.IsUnavailable(e) && !ct.IsCancellationRequested;

    private bool LogFailure(Exception e, int count)
    {
        if (e is not OperationCanceledException && !PostgresOutage.IsUnavailable(e))
            logger.LogError(e, "Batch of {Count} messages failed and cannot be retried; the consumer restarts from the stored offsets", count);
        return false;
    }

    private static Dictionary<string, object> BatchScope(
        string topic, IReadOnlyList<KafkaRecord> records, (KafkaRecord Record, EventParseResult Result)[] parsed)
    {
        static string? Id(EventParseResult r) => r.Event?.EventId ?? r.Rejection?.EventId;
        var impressions = parsed.Select(p => p.Result.Event?.ImpressionId ?? p.Result.Rejection?.ImpressionId)
            .OfType<string>().Distinct(StringComparer.Ordinal).Take(10);
        return new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["KafkaTopic"] = topic,
            // partition:first-last per partition, enough to fetch the exact messages again (kcat -o).
            ["KafkaOffsets"] = string.Join(",", OffsetRanges(records).OrderBy(p => p.Key)
                .Select(p => $"{p.Key}:{p.Value.First}-{p.Value.Last}")),
            ["FirstEventId"] = (parsed.Length > 0 ? Id(parsed[0].Result) : null) ?? "",
            ["LastEventId"] = (parsed.Length > 0 ? Id(parsed[^1].Result) : null) ?? "",
            ["ImpressionIds"] = string.Join(",", impressions),
        };
    }

    /// <summary>The first and last offset of each partition's messages in the batch.</summary>
    private static Dictionary<int, (long First, long Last)> OffsetRanges(IReadOnlyList<KafkaRecord> records)
    {
        var ranges = new Dictionary<int, (long First, long Last)>();
        foreach (var r in records)
        {
            ranges[r.Partition] = ranges.TryGetValue(r.Partition, out var range)
                ? (Math.Min(range.First, r.Offset), Math.Max(range.Last, r.Offset))
                : (r.Offset, r.Offset);
        }

        return ranges;
    }

    /// <summary>Parsing is pure CPU that PostgreSQL waits for, so a large batch is parsed on every core, in order.</summary>
    private static (KafkaRecord Record, EventParseResult Result)[] Parse(IReadOnlyList<KafkaRecord> records)
    {
        var results = new (KafkaRecord Record, EventParseResult Result)[records.Count];
        if (records.Count >= 256 && Environment.ProcessorCount > 1)
            Parallel.For(0, records.Count, i => results[i] = (records[i], ParseOne(records[i])));
        else
            for (var i = 0; i < records.Count; i++) results[i] = (records[i], ParseOne(records[i]));
        return results;
    }

    /// <summary>The content hash is the key of a message without an event_id only; the parser uses the fallback
    /// exactly when the payload yields no event_id, so hashing just then gives the same result for every message.</summary>
    private static EventParseResult ParseOne(KafkaRecord r)
    {
        var result = EventParser.Parse(r.Value, null, r.TimestampUtc);
        return (result.Event?.EventId ?? result.Rejection?.EventId) is null
            ? EventParser.Parse(r.Value, FallbackEventId(r), r.TimestampUtc)
            : result;
    }

    /// <summary>A message without an event_id still needs a stable idempotency key: its content.</summary>
    private static string FallbackEventId(KafkaRecord r) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(r.Value))[..32];

    private async Task<BatchResult> ApplyOnceAsync(
        string group, string topic, string clusterId, IReadOnlyList<KafkaRecord> records,
        (KafkaRecord Record, EventParseResult Result)[] parsed, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await AdvisoryLock(conn, tx, RebuildLock, shared: true, ct);
        await PlanForBatchAsync(conn, tx, ct);
        var policy = await config.ReadAsync(conn, tx, ct);

        var audit = new List<AuditEntry>();
        var valid = ValidOrAudited(parsed, audit);
        await ResolveClickIdsAsync(conn, tx, valid, ct);

        // Rule 1 (dedup) against everything stored so far and within the batch.
        var known = await EventStoreReader.KnownEventIdsAsync(conn, tx, valid.ConvertAll(v => v.Event.EventId), ct);
        var (fresh, duplicates) = EventDeduplication.Partition(valid, v => v.Event.EventId, known.Contains);
        foreach (var (record, e) in duplicates)
        {
            audit.Add(new AuditEntry(e.EventId, e.ImpressionId, e.Type.ToWire(), AuditReason.DuplicateEvent,
                $"event_id already applied; this delivery (partition {record.Partition}, offset {record.Offset}) changes nothing",
                record.Partition, record.Offset));
        }

        var parked = fresh.Where(f => f.Event.ImpressionId is null).ToList();
        await ParkAsync(conn, tx, parked, ct);
        foreach (var (record, e) in parked)
        {
            audit.Add(new AuditEntry(e.EventId, null, e.Type.ToWire(), AuditReason.UnknownClickId,
                $"click_id {((ConversionReported)e).ClickId} is not a known click; the conversion is kept and applied when that click arrives",
                record.Partition, record.Offset));
        }

        var toAppend = new List<EventToAppend>(fresh.Count);
        foreach (var (record, e) in fresh)
        {
            if (e.ImpressionId is not null) toAppend.Add(new EventToAppend(e, record.Partition, record.Offset, record.Value));
        }

        var newClicks = toAppend.Where(a => a.Event is AdClicked).ToDictionary(a => a.Event.EventId, a => a.Event.ImpressionId!, StringComparer.Ordinal);
        var unparked = await UnparkAsync(conn, tx, newClicks, ct);
        toAppend.AddRange(unparked);
        await AuditWriter.DeleteUnknownClickAsync(conn, tx, unparked.Select(u => u.Event.EventId).ToList(), ct);

        // Fold every touched impression over its whole history plus the new events. The Gold rows being replaced are
        // read (and locked) first: they are the rollups' "before", and since every batch and replay writes an
        // impression's events and its Gold row in one transaction, only impressions with a row have a history to load.
        var touched = toAppend.Select(a => a.Event.ImpressionId!).Distinct(StringComparer.Ordinal).ToList();
        var goldBefore = await GoldQueries.LockRowsAsync(conn, tx, touched, ct);

        // Retention: events of impressions retired from the event store are audited, never folded on a partial history.
        if (await RetiredImpressions.DivertAsync(conn, tx, toAppend, goldBefore.Select(g => g.ImpressionId), audit, ct))
        {
            var kept = toAppend.Select(a => a.Event.ImpressionId!).ToHashSet(StringComparer.Ordinal);
            touched = [.. touched.Where(kept.Contains)];
            goldBefore = [.. goldBefore.Where(g => kept.Contains(g.ImpressionId))];
        }

        var existing = goldBefore.Select(g => g.ImpressionId).ToHashSet(StringComparer.Ordinal);
        var history = await EventStoreReader.LoadStreamsAsync(conn, tx, existing, ct);
        var clickFlags = await DecideBurstsAsync(conn, tx, policy, touched, goldBefore, existing, history, toAppend, ct);
        var newEvents = new List<NewEvent>(toAppend.Count);
        var versions = touched.ToDictionary(t => t, t => history.TryGetValue(t, out var h) ? h[^1].StreamVersion : 0, StringComparer.Ordinal);
        foreach (var a in toAppend)
        {
            var version = ++versions[a.Event.ImpressionId!];
            newEvents.Add(new NewEvent(a.Event, version, a.Partition, a.Offset, a.Raw));
        }

        // The fold and the rollup delta are pure: they run while PostgreSQL stores the events. One after the other,
        // PostgreSQL sat idle in the transaction for a tenth of the batch, waiting for them.
        var streams = Streams(touched, history, newEvents, versions);
        var folding = Task.Run(() =>
        {
            var (rows, derived, flagged) = GoldProjection.Fold(streams, policy, clickFlags);
            return (rows, derived, flagged, Rollup: HourlyRollup.Delta(goldBefore, rows.Select(r => r.State)));
        }, ct);
        await eventStore.AppendAsync(conn, tx, newEvents, ct);
        var (rows, derived, flagged, rollup) = await folding;
        await GoldWriter.WriteAsync(conn, tx, rows, existing, ct);
        await FlaggedEventStore.ReplaceAsync(conn, tx, [.. goldBefore.Where(g => g.FraudReasons.Length > 0).Select(g => g.ImpressionId)], flagged, ct);

        await AuditWriter.DeleteDerivedAsync(conn, tx, touched, ct);
        audit.AddRange(derived);
        await AuditWriter.AppendAsync(conn, audit, ct);

        var appliedPerPartition = new Dictionary<int, int>();
        foreach (var n in newEvents)
        {
            if (n.KafkaPartition is { } p) appliedPerPartition[p] = appliedPerPartition.GetValueOrDefault(p) + 1;
        }

        var offsets = OffsetRanges(records).ToDictionary(r => r.Key, r => (r.Value.Last + 1, appliedPerPartition.GetValueOrDefault(r.Key)));
        await OffsetStore.StoreAsync(conn, tx, group, topic, clusterId, offsets, ct);
        // Rollups last: old → new Gold rows as a delta to every tier. Concurrent batches share rollup cells, and a
        // cell stays locked until commit, so the less work between this and the commit, the less the others wait.
        await HourlyRollup.ApplyAsync(conn, tx, rollup, ct);
        await tx.CommitAsync(ct);

        var now = DateTime.UtcNow;
        foreach (var n in newEvents) metrics.ObserveEndToEnd((now - n.Event.IngestTime).TotalSeconds);
        if (newEvents.Count > 0) metrics.AppliedIngestTime(newEvents.Max(n => n.Event.IngestTime));

        // The fold re-derives the outcomes of an impression's whole history; the counters count each event once,
        // with the outcome it had when it was applied, so refolding an old impression does not count it again.
        var applied = derived.Count == 0 ? [] : newEvents.Select(n => n.Event.EventId).ToHashSet(StringComparer.Ordinal);
        var derivedNow = derived.Where(d => d.EventId is not null && applied.Contains(d.EventId)).ToList();
        var audited = derivedNow.Select(d => d.EventId!).ToHashSet(StringComparer.Ordinal);
        metrics.EventsApplied.Inc(newEvents.Count);
        metrics.LateEvents.Inc(newEvents.Count(n => n.Event.Lateness > policy.LateThreshold && !audited.Contains(n.Event.EventId)));
        foreach (var g in audit.Where(a => !a.Reason.IsDerived()).Concat(derivedNow).GroupBy(a => a.Reason))
            metrics.Audited.WithLabels(g.Key.ToWire()).Inc(g.Count());
        return new BatchResult(records.Count, newEvents.Count, duplicates.Count, parsed.Length - valid.Count, parked.Count, touched.Count);
    }

    /// <summary>The events that parsed; every message that did not is audited INVALID with its bytes.</summary>
    private static List<(KafkaRecord Record, AdEvent Event)> ValidOrAudited((KafkaRecord Record, EventParseResult Result)[] parsed, List<AuditEntry> audit)
    {
        var valid = new List<(KafkaRecord Record, AdEvent Event)>(parsed.Length);
        foreach (var (record, result) in parsed)
        {
            if (result.Event is { } e) valid.Add((record, e));
            else
            {
                var r = result.Rejection!;
                audit.Add(new AuditEntry(r.EventId, r.ImpressionId, r.EventType, AuditReason.Invalid, r.Detail,
                    record.Partition, record.Offset, Encoding.UTF8.GetString(record.Value)));
            }
        }

        return valid;
    }

    /// <summary>Rule 10 (click_id postbacks): a conversion that names only its click gets that click's impression, from
    /// this batch or the store; one whose click is unknown yet stays without and is parked later.</summary>
    private static async Task ResolveClickIdsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<(KafkaRecord Record, AdEvent Event)> valid, CancellationToken ct)
    {
        var orphans = valid.Where(v => v.Event.ImpressionId is null).ToList();
        if (orphans.Count > 0) await AdvisoryLock(conn, tx, ClickResolutionLock, shared: false, ct);
        else if (valid.Any(v => v.Event is AdClicked)) await AdvisoryLock(conn, tx, ClickResolutionLock, shared: true, ct);
        if (orphans.Count == 0) return;

        var clickImpressions = valid.Where(v => v.Event is AdClicked)
            .GroupBy(v => v.Event.EventId).ToDictionary(g => g.Key, g => g.First().Event.ImpressionId!, StringComparer.Ordinal);
        var unknown = orphans.Select(o => ((ConversionReported)o.Event).ClickId!).Where(c => !clickImpressions.ContainsKey(c)).Distinct().ToList();
        foreach (var (click, impression) in await EventStoreReader.ClickImpressionsAsync(conn, tx, unknown, ct))
            clickImpressions[click] = impression;
        for (var i = 0; i < valid.Count; i++)
        {
            if (valid[i].Event is ConversionReported { ImpressionId: null, ClickId: { } clickId } c &&
                clickImpressions.TryGetValue(clickId, out var impressionId))
            {
                valid[i] = (valid[i].Record, c with { ImpressionId = impressionId });
            }
        }
    }

    /// <summary>
    /// The burst rules (issue 22: CLICK_FLOODING, USER_CLICK_VELOCITY) count clicks across impressions, so they are
    /// decided here, before the fold: the flags of every judged click the batch folds, from the stored clicks of each
    /// key's minute. A new click that pushes a key over its limit re-flags stored clicks of other impressions: those
    /// impressions join the batch (their Gold rows locked, their histories loaded) and are folded again.
    /// </summary>
    private static async Task<Dictionary<string, FraudRule[]>> DecideBurstsAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        AttributionPolicy policy, List<string> touched, List<GoldState> goldBefore, HashSet<string> existing,
        Dictionary<string, List<StoredEvent>> history, List<EventToAppend> toAppend,
        CancellationToken ct)
    {
        var added = toAppend.Select(a => JudgedClick.Of(a.Event)).OfType<JudgedClick>().ToList();
        var folded = history.Values.SelectMany(h => h).Select(s => JudgedClick.Of(s.Event)).OfType<JudgedClick>().Concat(added).ToList();
        var decision = await JudgedClicks.DecideForBatchAsync(conn, tx, folded, added, policy.Fraud, ct);
        if (decision.Reflagged.Count == 0) return decision.Flags;

        var rows = await GoldQueries.LockRowsAsync(conn, tx, decision.Reflagged, ct);
        var joined = rows.Select(r => r.ImpressionId).Where(id => !existing.Contains(id)).ToList();
        var histories = await EventStoreReader.LoadStreamsAsync(conn, tx, joined, ct);
        foreach (var id in joined)
        {
            touched.Add(id);
            existing.Add(id);
            history[id] = histories.GetValueOrDefault(id) ?? [];
        }

        goldBefore.AddRange(rows.Where(r => joined.Contains(r.ImpressionId)));
        var theirs = histories.Values.SelectMany(h => h).Select(s => JudgedClick.Of(s.Event)).OfType<JudgedClick>().ToList();
        await JudgedClicks.LockKeysAsync(conn, tx, theirs, ct);
        foreach (var (id, rules) in await JudgedClicks.FlagsAsync(conn, tx, theirs, policy.Fraud, ct)) decision.Flags[id] = rules;
        return decision.Flags;
    }

    /// <summary>Each touched impression's stored history followed by its new events, in stream order, for the fold.</summary>
    private static List<(string ImpressionId, IReadOnlyCollection<AdEvent> Events, int StreamVersion)> Streams(
        List<string> touched, Dictionary<string, List<StoredEvent>> history, List<NewEvent> newEvents, Dictionary<string, int> versions)
    {
        // Sized exactly: with most impressions new and holding one event, a list per impression is most of the cost.
        var events = new Dictionary<string, List<AdEvent>>(touched.Count, StringComparer.Ordinal);
        foreach (var id in touched)
        {
            var stored = history.GetValueOrDefault(id);
            var list = new List<AdEvent>(versions[id]);
            if (stored is not null) foreach (var s in stored) list.Add(s.Event);
            events[id] = list;
        }

        foreach (var n in newEvents) events[n.Event.ImpressionId!].Add(n.Event);
        return touched.ConvertAll(id => (id, (IReadOnlyCollection<AdEvent>)events[id], versions[id]));
    }

    /// <summary>
    /// Every read of a batch probes tables by key (event ids, impression ids), so its cost must follow the batch, never
    /// the table. With a backlog's 20 000 keys against a table of a few million rows the planner prefers a parallel
    /// sequential scan, costed for pages on disk: here they sit in shared buffers, and the scan read every row of the
    /// events and Gold tables for every batch, a quarter of a second each and growing with the tables, where the index
    /// probes take a fraction of that. Parallel workers are no help either way: each one parses the whole plan,
    /// arrays of 20 000 keys included, from text (a tenth of PostgreSQL's time in a profile). And since every batch
    /// runs the same statements with arguments of the same shape, each is planned once per connection (a generic plan)
    /// rather than for every execution (planning was a twentieth of PostgreSQL's time). Scoped to this transaction only.
    /// </summary>
    private static async Task PlanForBatchAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT set_config('enable_seqscan', 'off', true), set_config('max_parallel_workers_per_gather', '0', true), " +
            "set_config('plan_cache_mode', 'force_generic_plan', true)", conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task AdvisoryLock(NpgsqlConnection conn, NpgsqlTransaction tx, long key, bool shared, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            shared ? "SELECT pg_advisory_xact_lock_shared($1)" : "SELECT pg_advisory_xact_lock($1)", conn, tx);
        cmd.Parameters.Add(new() { Value = key });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task ParkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, List<(KafkaRecord Record, AdEvent Event)> parked, CancellationToken ct)
    {
        if (parked.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO pending_conversions (event_id, click_id, raw_payload, ingest_time, kafka_partition, kafka_offset)
            SELECT * FROM unnest($1::text[], $2::text[], $3::json[], $4::timestamptz[], $5::integer[], $6::bigint[])
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = parked.Select(p => p.Event.EventId).ToArray() });
        cmd.Parameters.Add(new() { Value = parked.Select(p => ((ConversionReported)p.Event).ClickId!).ToArray() });
        cmd.Parameters.Add(new() { Value = parked.Select(p => Encoding.UTF8.GetString(p.Record.Value)).ToArray() });
        cmd.Parameters.Add(new() { Value = parked.Select(p => p.Event.IngestTime).ToArray() });
        cmd.Parameters.Add(new() { Value = parked.Select(p => p.Record.Partition).ToArray() });
        cmd.Parameters.Add(new() { Value = parked.Select(p => p.Record.Offset).ToArray() });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<EventToAppend>> UnparkAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Dictionary<string, string> newClicks, CancellationToken ct)
    {
        var unparked = new List<EventToAppend>();
        if (newClicks.Count == 0) return unparked;
        await using var cmd = new NpgsqlCommand("""
            DELETE FROM pending_conversions WHERE click_id = ANY($1)
            RETURNING event_id, click_id, raw_payload::text, ingest_time, kafka_partition, kafka_offset
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = newClicks.Keys.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var raw = Encoding.UTF8.GetBytes(reader.GetString(2));
            var ingest = DateTime.SpecifyKind(reader.GetDateTime(3), DateTimeKind.Utc);
            var parsed = EventParser.Parse(raw, reader.GetString(0), ingest);
            if (parsed.Event is not ConversionReported conversion)
                throw new InvalidDataException($"parked conversion {reader.GetString(0)} no longer parses: {parsed.Rejection?.Detail}");
            unparked.Add(new EventToAppend(conversion with { ImpressionId = newClicks[reader.GetString(1)] },
                reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), raw));
        }

        return unparked;
    }
}
