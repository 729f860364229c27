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
            Bind(update, updates);
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
        await using var importer = await conn.BeginBinaryImportAsync(
            $"COPY {table} (impression_id, campaign_id, creative_id, user_id, geo_country, platform, " +
            "is_clicked, is_converted, impression_time, click_time, conversion_time, cost, revenue, eligible, is_late, " +
            "late_by_ms, revenue_out_of_window, stream_version) FROM STDIN (FORMAT BINARY)", ct);
        foreach (var row in rows)
        {
            var s = row.State;
            if (skip is not null && skip.Contains(s.ImpressionId)) continue;
            ct.ThrowIfCancellationRequested();
            importer.StartRow();
            importer.Write(s.ImpressionId, NpgsqlDbType.Text);
            importer.WriteText(s.CampaignId);
            importer.WriteText(s.CreativeId);
            importer.WriteText(s.UserId);
            importer.WriteText(s.GeoCountry);
            importer.WriteText(s.Platform);
            importer.Write(s.IsClicked, NpgsqlDbType.Boolean);
            importer.Write(s.IsConverted, NpgsqlDbType.Boolean);
            importer.WriteNullable(s.ImpressionTime, NpgsqlDbType.TimestampTz);
            importer.WriteNullable(s.ClickTime, NpgsqlDbType.TimestampTz);
            importer.WriteNullable(s.ConversionTime, NpgsqlDbType.TimestampTz);
            importer.Write(s.Cost, NpgsqlDbType.Numeric);
            importer.Write(s.Revenue, NpgsqlDbType.Numeric);
            importer.Write(s.Eligible, NpgsqlDbType.Boolean);
            importer.Write(s.IsLate, NpgsqlDbType.Boolean);
            importer.Write(s.LateByMs, NpgsqlDbType.Bigint);
            importer.Write(s.RevenueOutOfWindow, NpgsqlDbType.Numeric);
            importer.Write(row.StreamVersion, NpgsqlDbType.Integer);
        }

        await importer.CompleteAsync(ct);
    }

    /// <summary>Replay's path: rows that may or may not exist, written in chunks.</summary>
    public static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<GoldRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await using var upsert = new NpgsqlCommand(Sql, conn, tx);
        Bind(upsert, rows);
        await upsert.ExecuteNonQueryAsync(ct);
    }

    // The 18 arrays Bind adds, as rows.
    private const string BoundRows = """
        unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::boolean[],
               $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::numeric[], $13::numeric[],
               $14::boolean[], $15::boolean[], $16::bigint[], $17::numeric[], $18::integer[])
        """;

    private const string Sql = $"""
        INSERT INTO ad_performance_state AS g (impression_id, campaign_id, creative_id, user_id, geo_country, platform,
            is_clicked, is_converted, impression_time, click_time, conversion_time, cost, revenue, eligible, is_late,
            late_by_ms, revenue_out_of_window, stream_version, last_updated_ts)
        SELECT *, now()
        FROM {BoundRows}
        ON CONFLICT (impression_id) DO UPDATE SET
            campaign_id = EXCLUDED.campaign_id, creative_id = EXCLUDED.creative_id, user_id = EXCLUDED.user_id,
            geo_country = EXCLUDED.geo_country, platform = EXCLUDED.platform, is_clicked = EXCLUDED.is_clicked,
            is_converted = EXCLUDED.is_converted, impression_time = EXCLUDED.impression_time,
            click_time = EXCLUDED.click_time, conversion_time = EXCLUDED.conversion_time, cost = EXCLUDED.cost,
            revenue = EXCLUDED.revenue, eligible = EXCLUDED.eligible, is_late = EXCLUDED.is_late,
            late_by_ms = EXCLUDED.late_by_ms, revenue_out_of_window = EXCLUDED.revenue_out_of_window,
            stream_version = EXCLUDED.stream_version, last_updated_ts = EXCLUDED.last_updated_ts,
            change_seq = nextval('ad_performance_state_change_seq')
        """;

    private const string UpdateSql = $"""
        UPDATE ad_performance_state AS g SET
            campaign_id = d.campaign_id, creative_id = d.creative_id, user_id = d.user_id, geo_country = d.geo_country,
            platform = d.platform, is_clicked = d.is_clicked, is_converted = d.is_converted,
            impression_time = d.impression_time, click_time = d.click_time, conversion_time = d.conversion_time,
            cost = d.cost, revenue = d.revenue, eligible = d.eligible, is_late = d.is_late, late_by_ms = d.late_by_ms,
            revenue_out_of_window = d.revenue_out_of_window, stream_version = d.stream_version, last_updated_ts = now(),
            change_seq = nextval('ad_performance_state_change_seq')
        FROM {BoundRows}
             AS d(impression_id, campaign_id, creative_id, user_id, geo_country, platform, is_clicked, is_converted,
                  impression_time, click_time, conversion_time, cost, revenue, eligible, is_late, late_by_ms,
                  revenue_out_of_window, stream_version)
        WHERE g.impression_id = d.impression_id
        """;

    private static void Bind(NpgsqlCommand cmd, IReadOnlyList<GoldRow> rows)
    {
        void Add<T>(Func<GoldRow, T> pick) => cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(pick).ToArray() });

        // An array of nullable times says nothing about its kind when it starts with null: name the type.
        void AddTime(Func<GoldRow, DateTime?> pick) => cmd.Parameters.Add(new NpgsqlParameter
        {
            Value = rows.Select(pick).ToArray(),
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
        });
        Add(r => r.State.ImpressionId);
        Add(r => r.State.CampaignId);
        Add(r => r.State.CreativeId);
        Add(r => r.State.UserId);
        Add(r => r.State.GeoCountry);
        Add(r => r.State.Platform);
        Add(r => r.State.IsClicked);
        Add(r => r.State.IsConverted);
        AddTime(r => r.State.ImpressionTime);
        AddTime(r => r.State.ClickTime);
        AddTime(r => r.State.ConversionTime);
        Add(r => r.State.Cost);
        Add(r => r.State.Revenue);
        Add(r => r.State.Eligible);
        Add(r => r.State.IsLate);
        Add(r => r.State.LateByMs);
        Add(r => r.State.RevenueOutOfWindow);
        Add(r => r.StreamVersion);
    }
}
