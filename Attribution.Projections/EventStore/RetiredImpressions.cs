using System.Text;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Projections.Audit;
using Attribution.Projections.Schema;
using Npgsql;

namespace Attribution.Projections.EventStore;

/// <summary>
/// The ingest side of retention: an event for an impression whose history was retired from the events table is
/// audited (with its payload) instead of being appended, because folding it would start that impression over from
/// a partial history. Its event_id joins retired_event_ids, so a redelivery is an ordinary duplicate.
/// </summary>
public static class RetiredImpressions
{
    /// <summary>
    /// Removes the events of retired impressions from <paramref name="toAppend"/> and audits them; true when it removed
    /// any. <paramref name="withGoldRow"/> names the impressions of the batch that have a Gold row: retention keeps
    /// the Gold row of every impression it retires, so no other impression can be retired, and a batch of mostly new
    /// impressions asks about a few.
    /// </summary>
    public static async Task<bool> DivertAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, List<EventToAppend> toAppend,
        IEnumerable<string> withGoldRow, List<AuditEntry> audit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(toAppend);
        ArgumentNullException.ThrowIfNull(audit);
        var candidates = ProbeKeys.Sorted(withGoldRow);
        if (toAppend.Count == 0 || candidates.Length == 0) return false;
        var retired = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        await using (var cmd = new NpgsqlCommand("SELECT impression_id, retired_at FROM retired_impressions WHERE impression_id = ANY($1)", conn, tx))
        {
            cmd.Parameters.Add(new() { Value = candidates });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) retired[reader.GetString(0)] = DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
        }

        if (retired.Count == 0) return false;
        var diverted = toAppend.Where(a => retired.ContainsKey(a.Event.ImpressionId!)).ToList();
        toAppend.RemoveAll(a => retired.ContainsKey(a.Event.ImpressionId!));
        await using (var remember = new NpgsqlCommand("""
            INSERT INTO retired_event_ids (event_id, impression_id, event_type)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) ON CONFLICT (event_id) DO NOTHING
            """, conn, tx))
        {
            remember.Parameters.Add(new() { Value = diverted.Select(d => d.Event.EventId).ToArray() });
            remember.Parameters.Add(new() { Value = diverted.Select(d => d.Event.ImpressionId!).ToArray() });
            remember.Parameters.Add(new() { Value = diverted.Select(d => d.Event.Type.ToWire()).ToArray() });
            await remember.ExecuteNonQueryAsync(ct);
        }

        foreach (var (e, partition, offset, raw) in diverted)
        {
            audit.Add(new AuditEntry(e.EventId, e.ImpressionId, e.Type.ToWire(), AuditReason.RetiredImpression,
                $"impression {e.ImpressionId} was retired from the event store on {retired[e.ImpressionId!]:yyyy-MM-dd} (its events are in " +
                "bronze.ad_events); this event is kept here and not folded onto a partial history",
                partition, offset, Encoding.UTF8.GetString(raw.Span)));
        }

        return true;
    }

    /// <summary>When the impression's history was retired from the events table, if it was.</summary>
    public static async Task<DateTime?> RetiredAtAsync(NpgsqlDataSource dataSource, string impressionId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var cmd = dataSource.CreateCommand("SELECT retired_at FROM retired_impressions WHERE impression_id = $1");
        cmd.Parameters.Add(new() { Value = impressionId });
        return await cmd.ExecuteScalarAsync(ct) is DateTime at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : null;
    }
}
