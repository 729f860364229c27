using Attribution.Domain.Attribution;
using Attribution.Projections.Schema;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Gold;

/// <summary>A Gold row to write: the folded state and the stream version it reflects.</summary>
public sealed record GoldRow(GoldState State, int StreamVersion);

/// <summary>Writes Gold rows: the pipeline's batches by binary COPY for new impressions and one UPDATE for the rest,
/// replay by one upsert per chunk (arrays unnested server-side).</summary>
public static class GoldWriter
{
    /// <summary>
    /// Writes rows whose current state the caller has read and locked in this transaction: <paramref name="existing"/>
    /// names the impressions that have a row. New impressions, most of a batch, go in by binary COPY, which costs about
    /// half of an upsert's speculative insertion; a concurrent transaction that inserts the same impression first makes
    /// the COPY fail on the primary key and the whole batch retries, then finding the row.
    /// </summary>
    public static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<GoldRow> rows,
        IReadOnlySet<string> existing, CancellationToken ct)
    {
        var updates = rows.Where(r => existing.Contains(r.State.ImpressionId)).ToList();
        if (updates.Count > 0)
        {
            await using var update = new NpgsqlCommand(UpdateSql, conn, tx);
            GoldColumns.Bind(update, updates);
            await update.ExecuteNonQueryAsync(ct);
        }

        if (updates.Count == rows.Count) return;
        await CopyAsync(conn, Table, rows, existing, ct);
    }

    /// <summary>Writes rows into a fresh table of Gold's columns that holds none of them (a what-if's shadow Gold):
    /// the pipeline's COPY, into <paramref name="table"/>, a schema-qualified name our own code made, never a user's.</summary>
    public static Task CopyIntoAsync(NpgsqlConnection conn, string table, IReadOnlyList<GoldRow> rows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(table);
        // A table name cannot be a parameter: only lowercase identifiers, so nothing in it needs quoting.
        if (!table.Split('.').All(part => part.Length is > 0 and <= 63 && part.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
                                          && part[0] is not (>= '0' and <= '9')))
            throw new ArgumentException($"'{table}' is not a table name this writer takes", nameof(table));
        return rows.Count == 0 ? Task.CompletedTask : CopyAsync(conn, table, rows, null, ct);
    }

    private const string Table = "ad_performance_state";

    private static async Task CopyAsync(NpgsqlConnection conn, string table, IReadOnlyList<GoldRow> rows, IReadOnlySet<string>? skip, CancellationToken ct)
    {
        // last_updated_ts and change_seq take their defaults: now(), the transaction's time as the upsert writes it,
        // and the next change marker.
        await using var importer = await conn.BeginBinaryImportAsync($"COPY {table} ({GoldColumns.Names}) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var row in rows)
        {
            if (skip is not null && skip.Contains(row.State.ImpressionId)) continue;
            ct.ThrowIfCancellationRequested();
            GoldColumns.Copy(importer, row);
        }

        await importer.CompleteAsync(ct);
    }

    /// <summary>Replay's path: rows that may or may not exist, written in chunks.</summary>
    public static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<GoldRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await using var upsert = new NpgsqlCommand(UpsertSql, conn, tx);
        GoldColumns.Bind(upsert, rows);
        await upsert.ExecuteNonQueryAsync(ct);
    }

    private static readonly string UpsertSql = $"""
        INSERT INTO ad_performance_state AS g ({GoldColumns.Names}, last_updated_ts)
        SELECT *, now()
        FROM {GoldColumns.Unnest}
        ON CONFLICT (impression_id) DO UPDATE SET {GoldColumns.AssignFrom("EXCLUDED")},
            last_updated_ts = EXCLUDED.last_updated_ts, change_seq = nextval('ad_performance_state_change_seq')
        """;

    private static readonly string UpdateSql = $"""
        UPDATE ad_performance_state AS g SET {GoldColumns.AssignFrom("d")},
            last_updated_ts = now(), change_seq = nextval('ad_performance_state_change_seq')
        FROM {GoldColumns.Unnest} AS d({GoldColumns.Names})
        WHERE g.impression_id = d.impression_id
        """;
}
