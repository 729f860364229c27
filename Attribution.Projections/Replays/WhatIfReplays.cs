using System.Collections.Concurrent;
using System.Data;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Fraud;
using Attribution.Projections.Gold;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Replays;

/// <summary>What a what-if asks for: rules left out are the attribution config in force.</summary>
public sealed record WhatIfRequest(double? LookbackDays, double? LateThresholdMinutes, ImpressionRange Range);

/// <summary>A replay started, or the one already running that kept it from starting.</summary>
public sealed record WhatIfStart(ReplayRecord? Started, string? RunningId);

public enum WhatIfDeletion { Deleted, NotFound, RunningElsewhere }

/// <summary>
/// Runs what-if replays in the background of the service (or in the foreground of the CLI verb): the stored events of
/// the chosen impressions folded under the what-if rules into the replay's shadow Gold, chunk by chunk, each chunk
/// compared with live Gold as the same snapshot shows it. Live Gold, the audit log and the rollups are only read.
/// </summary>
public sealed class WhatIfReplays(NpgsqlDataSource db, AttributionConfigStore config, ReplayStore store, ILogger<WhatIfReplays> logger)
    : IHostedService, IDisposable
{
    public const string InterruptedByRestart = "interrupted by a restart";
    public const string InterruptedByStop = "interrupted: the service stopped";
    public const string Cancelled = "cancelled";

    private readonly ConcurrentDictionary<string, (CancellationTokenSource Cancel, Task Task)> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Impressions per chunk: one short transaction each, so no snapshot is held for the whole replay.</summary>
    public int ChunkSize { get; init; } = 2000;

    /// <summary>A replay left running by an instance that died: nobody holds its lock any more.</summary>
    public async Task StartAsync(CancellationToken cancellationToken) => await SweepInterruptedAsync(InterruptedByRestart, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await Task.WhenAll(_running.Values.Select(r => r.Task)).WaitAsync(cancellationToken);
    }

    /// <summary>Starts a replay in the background; the caller answers at once and polls its state.</summary>
    public async Task<WhatIfStart> StartReplayAsync(WhatIfRequest request, CancellationToken ct)
    {
        var (conn, record, runningId) = await BeginAsync(request, ct);
        if (record is null) return new WhatIfStart(null, runningId);
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        // Registered before it runs, so a DELETE that comes at once finds it to cancel.
        var run = new TaskCompletionSource();
        _running[record.Id] = (cancel, run.Task);
        _ = Task.Run(async () =>
        {
            try
            {
                await RunAsync(conn!, record, null, cancel.Token);
            }
            finally
            {
                _running.TryRemove(record.Id, out _);
                cancel.Dispose();
                run.SetResult();
            }
        }, CancellationToken.None);
        return new WhatIfStart(record, null);
    }

    /// <summary>Runs a replay to its end on the caller's task (the CLI verb), reporting impressions done of total.</summary>
    public async Task<WhatIfStart> RunHereAsync(WhatIfRequest request, IProgress<(long Done, long Total)>? progress, CancellationToken ct)
    {
        var (conn, record, runningId) = await BeginAsync(request, ct);
        if (record is null) return new WhatIfStart(null, runningId);
        await RunAsync(conn!, record, progress, ct);
        return new WhatIfStart(await store.GetAsync(record.Id, CancellationToken.None), null);
    }

    /// <summary>Drops a replay's schema and its record; a running one of this instance is cancelled first.</summary>
    public async Task<WhatIfDeletion> DeleteAsync(string id, CancellationToken ct)
    {
        var record = await store.GetAsync(id, ct);
        if (record is null) return WhatIfDeletion.NotFound;
        if (record.State == ReplayStates.Running)
        {
            if (_running.TryGetValue(id, out var running))
            {
                await running.Cancel.CancelAsync();
                await running.Task.WaitAsync(ct);
            }
            else
            {
                await SweepInterruptedAsync(InterruptedByRestart, ct);
                if ((await store.GetAsync(id, ct))?.State == ReplayStates.Running) return WhatIfDeletion.RunningElsewhere;
            }
        }

        await ShadowGold.DropAsync(db, id, ct);
        await store.DeleteAsync(id, ct);
        return WhatIfDeletion.Deleted;
    }

    /// <summary>Marks failed every running replay whose runner is gone (its session lock is free), and drops its schema.</summary>
    public async Task SweepInterruptedAsync(string reason, CancellationToken ct)
    {
        foreach (var replay in await store.RunningAsync(ct))
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            if (!await TryLockAsync(conn, replay.Id, ct)) continue;
            try
            {
                await store.FinishAsync(replay.Id, reason, ct);
                await ShadowGold.DropAsync(db, replay.Id, ct);
                logger.LogWarning("What-if replay {ReplayId} was running when its service stopped; marked failed", replay.Id);
            }
            finally
            {
                await UnlockAsync(conn, replay.Id);
            }
        }
    }

    /// <summary>Takes the new replay's lock and records it, on the connection that will run it.</summary>
    private async Task<(NpgsqlConnection? Conn, ReplayRecord? Record, string? RunningId)> BeginAsync(WhatIfRequest request, CancellationToken ct)
    {
        await SweepInterruptedAsync(InterruptedByRestart, ct);
        var live = await config.ReadAsync(ct);
        var rules = live.With(request.LookbackDays, request.LateThresholdMinutes);
        var id = ReplayIds.New();
        var conn = await db.OpenConnectionAsync(ct);
        try
        {
            // Held for the whole run, so that another instance's sweep sees this replay alive; a dead process's
            // session ends and frees it.
            await TryLockAsync(conn, id, ct);
            var record = await ReplayStore.TryInsertAsync(conn, id, rules, live, request.Range, ct);
            if (record is not null) return (conn, record, null);
            await UnlockAsync(conn, id);
            await conn.DisposeAsync();
            return (null, null, (await store.RunningAsync(ct)).FirstOrDefault()?.Id);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private async Task RunAsync(NpgsqlConnection conn, ReplayRecord record, IProgress<(long Done, long Total)>? progress, CancellationToken ct)
    {
        string? error = null;
        try
        {
            await using (conn)
            {
                try
                {
                    await ReplayChunksAsync(conn, record, progress, ct);
                }
                finally
                {
                    await UnlockAsync(conn, record.Id);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            error = _stopping.IsCancellationRequested ? InterruptedByStop : Cancelled;
        }
        catch (Exception e)
        {
            logger.LogError(e, "What-if replay {ReplayId} failed", record.Id);
            error = e.Message;
        }

        try
        {
            // A failed replay keeps no half-written shadow: its record says why.
            if (error is not null) await ShadowGold.DropAsync(db, record.Id, CancellationToken.None);
            await store.FinishAsync(record.Id, error, CancellationToken.None);
        }
        catch (NpgsqlException e)
        {
            // PostgreSQL is away: the record stays running until the next sweep finds its lock free.
            logger.LogError(e, "What-if replay {ReplayId} ended ({Error}) but could not be recorded", record.Id, error ?? "completed");
        }
    }

    private async Task ReplayChunksAsync(NpgsqlConnection conn, ReplayRecord record, IProgress<(long Done, long Total)>? progress, CancellationToken ct)
    {
        // A what-if varies lookback and lateness only: both sides judge fraud by the rules in force.
        var fraud = await FraudSettingsStore.ReadAsync(conn, null, ct);
        var (rules, live) = (record.Rules with { Fraud = fraud }, record.LiveRules with { Fraud = fraud });
        await ShadowGold.CreateAsync(conn, record.Id, ct);
        var total = await ReplaySource.CountAsync(conn, record.Range, ct);
        await ReplayStore.ProgressAsync(conn, record.Id, 0, total, 0, ct);
        progress?.Report((0, total));
        long done = 0, changed = 0, explained = 0;
        var after = "";
        while (true)
        {
            // One snapshot per chunk: an impression's events and its live Gold row are read as one consistent state
            // (the consumer writes both in one transaction).
            await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
            var ids = await ReplaySource.NextPageAsync(conn, tx, record.Range, after, ChunkSize, ct);
            if (ids.Count == 0) break;
            var streams = await EventStoreReader.LoadStreamsAsync(conn, tx, ids, ct);
            var liveRows = await ShadowGold.ReadLiveAsync(conn, tx, ids, ct);
            var events = streams.ToDictionary(s => s.Key, s => (IReadOnlyCollection<AdEvent>)s.Value.Select(e => e.Event).ToList(), StringComparer.Ordinal);
            var judged = events.Values.SelectMany(e => e).Select(JudgedClick.Of).OfType<JudgedClick>().ToList();
            var flags = await JudgedClicks.FlagsAsync(conn, tx, judged, rules.Fraud, ct);
            var liveFlags = await JudgedClicks.FlagsAsync(conn, tx, judged, live.Fraud, ct);
            var (rows, _, _) = GoldProjection.Fold(streams.Select(s => (s.Key, events[s.Key], s.Value[^1].StreamVersion)), rules, flags);
            var explanations = new List<ChangedImpression>();
            foreach (var row in rows)
            {
                var id = row.State.ImpressionId;
                var liveState = liveRows.GetValueOrDefault(id)?.State;
                if (!WhatIf.OutcomeChanged(liveState, row.State)) continue;
                changed++;
                if (explained++ >= WhatIf.ExplainedImpressions) continue;
                explanations.Add(WhatIf.Explain(liveState, ImpressionAggregate.Fold(id, events[id], live, liveFlags), live,
                    ImpressionAggregate.Fold(id, events[id], rules, flags), rules));
            }

            await ShadowGold.WriteAsync(conn, tx, record.Id, rows, liveRows.Values.Select(r => new GoldRow(r.State, r.StreamVersion)).ToList(),
                explanations, ct);
            await tx.CommitAsync(ct);
            done += ids.Count;
            after = ids[^1];
            // Impressions that arrived since the count are replayed too when they sort after the chunks done.
            total = Math.Max(total, done);
            await ReplayStore.ProgressAsync(conn, record.Id, done, total, changed, ct);
            progress?.Report((done, total));
        }

        await ReplayStore.ProgressAsync(conn, record.Id, done, done, changed, ct);
        progress?.Report((done, done));
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, string id, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended('attribution.whatif.' || $1, 0))", conn);
        cmd.Parameters.Add(new() { Value = id });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task UnlockAsync(NpgsqlConnection conn, string id)
    {
        if (conn.State != ConnectionState.Open) return;
        try
        {
            await using var cmd = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended('attribution.whatif.' || $1, 0))", conn);
            cmd.Parameters.Add(new() { Value = id });
            await cmd.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // A broken connection is not pooled again: its session, and the lock with it, ends.
        }
    }

    public void Dispose() => _stopping.Dispose();
}
