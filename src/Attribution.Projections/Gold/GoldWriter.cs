using Attribution.Domain.Attribution;
using Npgsql;

namespace Attribution.Projections.Gold;

/// <summary>A Gold row to write: the folded state and the stream version it reflects.</summary>
public sealed record GoldRow(GoldState State, int StreamVersion);

/// <summary>Upserts Gold rows in one statement per batch (arrays unnested server-side).</summary>
public static class GoldWriter
{
    public static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<GoldRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await using var upsert = new NpgsqlCommand(Sql, conn, tx);
        Bind(upsert, rows);
        await upsert.ExecuteNonQueryAsync(ct);
    }

    private const string Sql = """
        INSERT INTO ad_performance_state AS g (impression_id, campaign_id, creative_id, user_id, geo_country, platform,
            is_clicked, is_converted, impression_time, click_time, conversion_time, cost, revenue, eligible, is_late,
            late_by_ms, revenue_out_of_window, stream_version, last_updated_ts)
        SELECT *, now()
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[], $8::boolean[],
                    $9::timestamptz[], $10::timestamptz[], $11::timestamptz[], $12::numeric[], $13::numeric[],
                    $14::boolean[], $15::boolean[], $16::bigint[], $17::numeric[], $18::integer[])
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

    private static void Bind(NpgsqlCommand cmd, IReadOnlyList<GoldRow> rows)
    {
        void Add<T>(Func<GoldRow, T> pick) => cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(pick).ToArray() });

        // An array of nullable times says nothing about its kind when it starts with null: name the type.
        void AddTime(Func<GoldRow, DateTime?> pick) => cmd.Parameters.Add(new NpgsqlParameter
        {
            Value = rows.Select(pick).ToArray(),
            NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.TimestampTz,
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
