using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Audit;
using Attribution.Projections.Config;
using Attribution.Projections.Fraud;
using Attribution.Projections.EventStore;
using Attribution.Projections.Pipeline;
using Attribution.Projections.Rollups;
using Marten;
using Marten.Services;
using Attribution.Projections.Users;
using Npgsql;

namespace Attribution.Projections.Gold;

/// <summary>
/// Re-derives Gold and the derived audit outcomes from Marten's event store under the attribution settings in force
/// now: the "time machine". A replay over Marten's event stream, page by page of streams, each folded by the
/// domain's aggregate. One transaction (Marten's session enlisted in it), so readers see the old Gold until the new
/// one is complete, and the consumer waits (rebuild lock) instead of interleaving, then goes on.
/// </summary>
public sealed class GoldRebuilder(NpgsqlDataSource dataSource, IDocumentStore store, AttributionConfigStore config)
{
    public async Task<(long Impressions, long Events)> RebuildAsync(IProgress<(long Done, long Total)>? progress, CancellationToken ct, int chunk = 5000)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using (var lockCmd = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", conn, tx))
        {
            lockCmd.Parameters.Add(new() { Value = BatchApplier.RebuildLock });
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        var policy = await config.ReadAsync(conn, tx, ct);
        long total;
        await using var session = store.QuerySession(SessionOptions.ForTransaction(tx));
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM mt_streams WHERE NOT is_archived", conn, tx))
            total = (long)(await count.ExecuteScalarAsync(ct))!;
        // Impressions retired from the event store keep their Gold row: there is no history left here to re-derive it.
        await using (var truncate = new NpgsqlCommand("""
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM retired_impressions) THEN
                    DELETE FROM ad_performance_state g WHERE NOT EXISTS (SELECT 1 FROM retired_impressions r WHERE r.impression_id = g.impression_id);
                ELSE
                    TRUNCATE ad_performance_state;
                END IF;
            END $$
            """, conn, tx))
            await truncate.ExecuteNonQueryAsync(ct);
        await using (var clear = new NpgsqlCommand("""
            DELETE FROM audit_log a WHERE a.reason = ANY($1)
              AND NOT EXISTS (SELECT 1 FROM retired_impressions r WHERE r.impression_id = a.impression_id)
            """, conn, tx))
        {
            clear.Parameters.Add(new() { Value = Domain.Attribution.AuditReasons.DerivedWire.ToArray() });
            await clear.ExecuteNonQueryAsync(ct);
        }

        await FlaggedEventStore.ClearForRebuildAsync(conn, tx, ct);
        await AudienceCube.ClearForRebuildAsync(conn, tx, ct);
        long done = 0, events = 0;
        var after = "";
        while (true)
        {
            var ids = new List<string>(chunk);
            await using (var page = new NpgsqlCommand(
                "SELECT id FROM mt_streams WHERE NOT is_archived AND id > $1 ORDER BY id LIMIT $2", conn, tx))
            {
                page.Parameters.Add(new() { Value = after });
                page.Parameters.Add(new() { Value = chunk });
                await using var reader = await page.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
            }

            if (ids.Count == 0) break;
            var streamEvents = await session.Events.QueryAllRawEvents()
                .Where(e => e.StreamKey!.IsOneOf(ids.ToArray()))
                .OrderBy(e => e.Sequence)
                .ToListAsync(ct);
            var streams = streamEvents.GroupBy(e => e.StreamKey!, StringComparer.Ordinal)
                .Select(s => (s.Key, (IReadOnlyCollection<AdEvent>)s.Select(e => (AdEvent)e.Data).ToList(), (int)s.Max(e => e.Version)))
                .ToList();
            var judged = streams.SelectMany(s => s.Item2).Select(JudgedClick.Of).OfType<JudgedClick>().ToList();
            var clickFlags = await JudgedClicks.FlagsAsync(conn, tx, judged, policy.Fraud, ct);
            var (rows, derived, flagged) = GoldProjection.Fold(streams, policy, clickFlags);
            await GoldWriter.UpsertAsync(conn, tx, rows, ct);
            await FlaggedEventStore.ReplaceAsync(conn, tx, [], flagged, ct);
            await AuditWriter.AppendAsync(conn, derived, ct);
            done += ids.Count;
            events += streamEvents.Count;
            after = ids[^1];
            progress?.Report((done, total));
        }

        // The hourly and daily rollups are derived from Gold: rebuild them from the Gold just written, in this transaction.
        await HourlyRollup.RebuildAsync(conn, tx, ct);

        await tx.CommitAsync(ct);
        return (done, events);
    }
}
