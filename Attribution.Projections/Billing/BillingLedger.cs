using System.Globalization;
using Attribution.Domain.Attribution;
using Attribution.Domain.Billing;
using Attribution.Projections.Campaigns;
using Attribution.Projections.Lakehouse.Export;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Billing;

/// <summary>A month's bill as it is answered: stored bytes for a closed month, lines computed now for an open one.</summary>
/// <param name="Lines">The lines of an open month (charges, then adjustments); empty for a closed one, whose bytes say it all.</param>
public sealed record PeriodBill(BillingPeriod Period, ClosedPeriod? Closed, IReadOnlyList<BillingLine> Lines);

/// <summary>A closed month: the two renderings of its bill, frozen at <paramref name="ClosedAt"/>.</summary>
public sealed record ClosedPeriod(BillingPeriod Period, DateTimeOffset ClosedAt, byte[] Json, byte[] Csv);

/// <summary>What a bill looks like on the wire, given its lines and (for a closed month) when it closed.</summary>
public delegate (byte[] Json, byte[] Csv) RenderBill(BillingPeriod period, DateTimeOffset closedAt, IReadOnlyList<BillingLine> lines);

/// <summary>
/// Billing reports (issue 22) over the event store, Gold's fraud state and dim_campaigns; the rule itself is
/// <see cref="BillingLines"/>. Closed months are kept as bytes with the events they settled, so late events of a closed
/// month are billed once, as adjustments of the next open month.
/// </summary>
public sealed class BillingLedger(NpgsqlDataSource dataSource, LakehouseCatalog catalog)
{
    /// <summary>Closes of billing periods take this lock, so two closes never settle the same events twice.</summary>
    public const long CloseLock = 0x4174_7472_0022;

    // An impression bills for its own campaign, a click for its impression of record's (Gold). Excluded: the
    // impression is fraud-flagged (Gold), or the fold audited the event itself with a derived reason (fraud-flagged
    // click, duplicate impression). Duplicate event ids are never stored and invalid events only audited: neither is here.
    // With $5 (an adjustment of a closed month): the events no close settled, and the settled ones whose verdict has
    // changed since (billed then, excluded now, or the reverse), with that verdict and its price.
    private const string EventsSql = """
        SELECT * FROM (
            SELECT e.event_id, e.event_type, e.event_time, e.seq, coalesce(e.bid_price, 0),
                   CASE WHEN e.event_type = 'IMPRESSION' THEN e.campaign_id ELSE g.campaign_id END AS billed_campaign,
                   coalesce(g.fraud_suspected, false)
                     OR EXISTS (SELECT 1 FROM audit_log a WHERE a.event_id = e.event_id AND a.reason = ANY($4)) AS excluded,
                   s.event_id IS NOT NULL AS settled, s.billed, s.price
            FROM events e
            LEFT JOIN ad_performance_state g ON g.impression_id = e.stream_id
            LEFT JOIN billing_settled_events s ON $5 AND s.event_id = e.event_id
            WHERE e.event_type IN ('IMPRESSION', 'CLICK') AND e.event_time >= $1 AND e.event_time < $2
              AND ($3::text IS NULL OR CASE WHEN e.event_type = 'IMPRESSION' THEN e.campaign_id ELSE g.campaign_id END = $3)
        ) x
        WHERE NOT x.settled OR x.billed = x.excluded
        """;

    /// <summary>The bill of [from, to) from the current state: one line per campaign version in force.</summary>
    public async Task<IReadOnlyList<BillingLine>> LinesAsync(DateTimeOffset from, DateTimeOffset to, string? campaignId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var lines = await ChargesAsync(conn, null, from.ToUniversalTime(), to.ToUniversalTime(), campaignId, unsettledOnly: false, corrects: null, ct);
        return WithSnapshots(lines);
    }

    /// <summary>A month's bill: its frozen bytes once closed, else its charges and the adjustments it carries.</summary>
    public async Task<PeriodBill> PeriodAsync(BillingPeriod period, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        if (await ReadClosedAsync(conn, null, period, ct) is { } closed) return new PeriodBill(period, closed, []);
        return new PeriodBill(period, null, WithSnapshots(await OpenLinesAsync(conn, null, period, ct)));
    }

    /// <summary>
    /// Closes a month: computes its bill as <see cref="PeriodAsync"/> would answer it now, stores both renderings and
    /// every event it judged, in one transaction. Null with a reason when the month may not close (see BillingPeriods.CloseError).
    /// </summary>
    public async Task<(ClosedPeriod? Closed, string? Error)> CloseAsync(BillingPeriod period, DateTimeOffset now, RenderBill render, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(render);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // The lock is the session's, taken before the transaction: a repeatable-read snapshot starts at its first
        // statement, and one taken while waiting for the lock would not see the close that held it.
        await SetLockAsync(conn, held: true, ct);
        try
        {
            return await CloseLockedAsync(conn, period, now, render, ct);
        }
        finally
        {
            await SetLockAsync(conn, held: false, CancellationToken.None);
        }
    }

    private static async Task SetLockAsync(NpgsqlConnection conn, bool held, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(held ? "SELECT pg_advisory_lock($1)" : "SELECT pg_advisory_unlock($1)", conn);
        cmd.Parameters.Add(new() { Value = CloseLock });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<(ClosedPeriod? Closed, string? Error)> CloseLockedAsync(
        NpgsqlConnection conn, BillingPeriod period, DateTimeOffset now, RenderBill render, CancellationToken ct)
    {
        // One snapshot for everything the close reads, so the bytes and the settled events describe the same state.
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        var already = await ReadClosedAsync(conn, tx, period, ct);
        if (BillingPeriods.CloseError(period, now, already is not null) is { } error) return (null, error);

        var lines = WithSnapshots(await OpenLinesAsync(conn, tx, period, ct));
        // Stored times have microsecond precision: the bytes must say what a reader of closed_at would see.
        var closedAt = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
        var (json, csv) = render(period, closedAt, lines);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO billing_periods (period, closed_at, json_body, csv_body) VALUES ($1, $2, $3, $4)", conn, tx))
        {
            insert.Parameters.Add(new() { Value = period.ToString() });
            insert.Parameters.Add(new() { Value = closedAt });
            insert.Parameters.Add(new() { Value = json });
            insert.Parameters.Add(new() { Value = csv });
            await insert.ExecuteNonQueryAsync(ct);
        }

        var settled = lines.SelectMany(l => l.Settled.Select(e => (Event: e, Of: (l.CorrectsPeriod ?? period).ToString()))).ToList();
        // A reversed event is settled again, with its new verdict, by the bill that reversed it.
        await using (var record = new NpgsqlCommand("""
            INSERT INTO billing_settled_events (event_id, event_period, billed_in, billed, price)
            SELECT event_id, event_period, $3, billed, price FROM unnest($1::text[], $2::text[], $4::boolean[], $5::numeric[]) AS s(event_id, event_period, billed, price)
            ON CONFLICT (event_id) DO UPDATE SET billed_in = EXCLUDED.billed_in, billed = EXCLUDED.billed, price = EXCLUDED.price
            """, conn, tx))
        {
            record.Parameters.Add(new() { Value = settled.Select(s => s.Event.EventId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            record.Parameters.Add(new() { Value = settled.Select(s => s.Of).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            record.Parameters.Add(new() { Value = period.ToString() });
            record.Parameters.Add(new() { Value = settled.Select(s => s.Event.Billed).ToArray() });
            record.Parameters.Add(new() { Value = settled.Select(s => s.Event.Price).ToArray() });
            await record.ExecuteNonQueryAsync(ct);
        }

        await tx.CommitAsync(ct);
        return (new ClosedPeriod(period, closedAt, json, csv), null);
    }

    /// <summary>An open month's charges, then the adjustments for the closed months right before it.</summary>
    private static async Task<List<BillingLine>> OpenLinesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, BillingPeriod period, CancellationToken ct)
    {
        var lines = await ChargesAsync(conn, tx, period.Start, period.End, null, unsettledOnly: false, corrects: null, ct);
        foreach (var corrected in BillingPeriods.CorrectedIn(period, await ClosedPeriodsAsync(conn, tx, ct)))
            lines.AddRange(await ChargesAsync(conn, tx, corrected.Start, corrected.End, null, unsettledOnly: true, corrects: corrected, ct));
        return lines;
    }

    private static async Task<List<BillingLine>> ChargesAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, DateTimeOffset from, DateTimeOffset to,
        string? campaignId, bool unsettledOnly, BillingPeriod? corrects, CancellationToken ct)
    {
        var versions = await CampaignDimension.InForceAsync(conn, tx, from, to, campaignId, ct);
        var events = new List<BillingEvent>();
        await using (var cmd = new NpgsqlCommand(EventsSql, conn, tx))
        {
            cmd.Parameters.Add(new() { Value = from });
            cmd.Parameters.Add(new() { Value = to });
            cmd.Parameters.Add(new() { Value = (object?)campaignId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new() { Value = AuditReasons.DerivedWire.ToArray() });
            cmd.Parameters.Add(new() { Value = unsettledOnly });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (reader.IsDBNull(5)) continue; // a click whose impression has not arrived: no campaign to bill yet
                events.Add(new BillingEvent(reader.GetString(0),
                    reader.GetString(1) == "IMPRESSION" ? BillingEventKind.Impression : BillingEventKind.Click,
                    reader.GetString(5), reader.GetFieldValue<DateTimeOffset>(2), reader.GetDecimal(4), reader.GetBoolean(6), reader.GetInt64(3))
                {
                    SettledAsBilled = reader.GetBoolean(7) ? reader.GetBoolean(8) : null,
                    SettledPrice = reader.GetBoolean(7) && !reader.IsDBNull(9) ? reader.GetDecimal(9) : null,
                });
            }
        }

        // An adjustment lists only versions with late events; a charge lists every version in force.
        return BillingLines.Compute(versions, events, from, to, idleVersions: corrects is null, corrects: corrects).ToList();
    }

    private static async Task<HashSet<BillingPeriod>> ClosedPeriodsAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct)
    {
        var closed = new HashSet<BillingPeriod>();
        await using var cmd = new NpgsqlCommand("SELECT period FROM billing_periods", conn, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            if (BillingPeriod.TryParse(reader.GetString(0), out var p)) closed.Add(p);
        return closed;
    }

    private static async Task<ClosedPeriod?> ReadClosedAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, BillingPeriod period, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT closed_at, json_body, csv_body FROM billing_periods WHERE period = $1", conn, tx);
        cmd.Parameters.Add(new() { Value = period.ToString() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new ClosedPeriod(period, reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<byte[]>(2));
    }

    /// <summary>
    /// Each line's Bronze snapshot: the first snapshot of bronze.ad_events whose export reached the line's highest event
    /// sequence. Bronze is append-only by sequence, so that snapshot (and every later one) holds all the line's events.
    /// Null while they are not all exported yet, or when the line bills nothing.
    /// </summary>
    private List<BillingLine> WithSnapshots(List<BillingLine> lines)
    {
        if (!lines.Any(l => l.Lineage.EventCount > 0)) return lines;
        var bronze = catalog.TryLoad(LakehouseTables.Bronze.QualifiedName);
        if (bronze is null) return lines;
        // The Bronze exporter's mark is the event store's seq; each append snapshot's summary says how far it reached.
        const string toKey = "attribution.seq-to";
        var exports = bronze.Snapshots()
            .Select(s => (s.SnapshotId, s.SequenceNumber, To: s.Summary.TryGetValue(toKey, out var v)
                && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var reached) ? reached : (long?)null))
            .Where(s => s.To is not null)
            .OrderBy(s => s.SequenceNumber)
            .ToList();
        return lines.Select(l =>
        {
            if (l.Lineage.EventCount == 0) return l;
            var holding = exports.FindIndex(s => s.To >= l.Lineage.MaxSeq);
            return holding < 0 ? l : l with { Lineage = l.Lineage with { BronzeSnapshotId = exports[holding].SnapshotId } };
        }).ToList();
    }
}
