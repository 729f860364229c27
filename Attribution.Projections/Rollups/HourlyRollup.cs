using System.Globalization;
using System.Reflection;
using Attribution.Domain.Attribution;
using Attribution.Domain.Metrics;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Rollups;

/// <summary>Keeps every rollup tier (<see cref="RollupTiers"/>) equal to a GROUP BY over Gold: deltas on the hot path, a
/// rebuild on replay.</summary>
public static class HourlyRollup
{
    /// <summary>
    /// The change from the old Gold rows (<paramref name="before"/>, read in the batch's transaction before the write;
    /// impressions that had no row are simply absent) to the new ones, as each tier's hourly, daily and weekly deltas,
    /// cells in a fixed order so that concurrent batches lock shared cells in the same order. Pure: a batch computes it
    /// while PostgreSQL is busy with its other statements.
    /// </summary>
    public static IReadOnlyList<(string Table, string Time, IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> Cells)> Delta(
        IEnumerable<GoldState> before, IEnumerable<GoldState> after)
    {
        var hourly = HourlyRollupRule.Delta(before, after);
        if (hourly.Count == 0) return [];
        var daily = HourlyRollupRule.ByDay(hourly);
        var weekly = HourlyRollupRule.ByWeek(daily);
        return [.. RollupTiers.All.SelectMany(tier => new[]
        {
            (tier.Hourly, "hour", tier.Coarsen(hourly)),
            (tier.Daily, "day", tier.Coarsen(daily)),
            (tier.Weekly, "week", tier.Coarsen(weekly)),
        })];
    }

    /// <summary>Adds a <see cref="Delta"/> to every tier: one upsert per table.</summary>
    public static async Task ApplyAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        IReadOnlyList<(string Table, string Time, IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> Cells)> delta, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(delta);
        foreach (var (table, time, cells) in delta) await UpsertAsync(conn, tx, table, time, cells, ct);
    }

    /// <summary>Adds the deltas to their cells; <paramref name="table"/> is a tier's constant table name and
    /// <paramref name="time"/> its time column.</summary>
    private static async Task UpsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string table, string time,
        IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> delta, CancellationToken ct)
    {
        if (delta.Count == 0) return;
        await using (var upsert = new NpgsqlCommand(string.Format(CultureInfo.InvariantCulture, UpsertSql, table, time), conn, tx))
        {
            BindCells(upsert, delta.Select(d => d.Cell).ToList());
            void Add<T>(Func<HourlyMeasures, T> pick) => upsert.Parameters.Add(new NpgsqlParameter { Value = delta.Select(d => pick(d.Delta)).ToArray() });
            Add(m => m.Impressions);
            Add(m => m.Clicks);
            Add(m => m.Conversions);
            Add(m => m.Cost);
            Add(m => m.Revenue);
            Add(m => m.RevenueOutOfWindow);
            Add(m => m.AttributionLagMicros);
            Add(m => m.AttributionLagCount);
            await upsert.ExecuteNonQueryAsync(ct);
        }

        // An impression that moved to another cell (its impression of record changed) can empty the old one; a
        // GROUP BY would not have that group at all.
        var emptied = delta.Where(d => d.Delta.Impressions < 0).Select(d => d.Cell).ToList();
        if (emptied.Count == 0) return;
        await using var delete = new NpgsqlCommand(string.Format(CultureInfo.InvariantCulture, """
            DELETE FROM {0} m
            USING unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[]) AS d(t, campaign_id, creative_id, geo_country, platform)
            WHERE m.{1} = d.t AND m.campaign_id IS NOT DISTINCT FROM d.campaign_id
              AND m.creative_id IS NOT DISTINCT FROM d.creative_id AND m.geo_country IS NOT DISTINCT FROM d.geo_country
              AND m.platform IS NOT DISTINCT FROM d.platform AND m.impressions = 0
            """, table, time), conn, tx);
        BindCells(delete, emptied);
        await delete.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Replaces every rollup tier with a GROUP BY over the Gold table as it is in this transaction.</summary>
    public static async Task RebuildAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using (var truncate = new NpgsqlCommand("TRUNCATE " + string.Join(", ", RollupTiers.Tables), conn, tx))
            await truncate.ExecuteNonQueryAsync(ct);
        foreach (var script in new[] { BackfillSql.Value, CampaignBackfillSql.Value, GeoPlatformBackfillSql.Value, WeeklyBackfillSql.Value })
        {
            await using var fill = new NpgsqlCommand(script, conn, tx);
            fill.CommandTimeout = 0;
            await fill.ExecuteNonQueryAsync(ct);
        }
    }

    // {0} the table, {1} its time column: filled only from the tiers' constant names, never from input.
    private const string UpsertSql = """
        INSERT INTO {0} AS m ({1}, campaign_id, creative_id, geo_country, platform, impressions, clicks,
            conversions, cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count)
        SELECT t, campaign_id, creative_id, geo_country, platform, impressions, clicks, conversions, cost, revenue,
               revenue_out_of_window, attribution_lag_us, attribution_lag_count
        FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[],
                    $8::bigint[], $9::numeric[], $10::numeric[], $11::numeric[], $12::bigint[], $13::bigint[])
             WITH ORDINALITY AS d(t, campaign_id, creative_id, geo_country, platform, impressions, clicks, conversions,
                                  cost, revenue, revenue_out_of_window, attribution_lag_us, attribution_lag_count, n)
        ORDER BY n
        ON CONFLICT ({1}, campaign_id, creative_id, geo_country, platform) DO UPDATE SET
            impressions = m.impressions + EXCLUDED.impressions,
            clicks = m.clicks + EXCLUDED.clicks,
            conversions = m.conversions + EXCLUDED.conversions,
            cost = m.cost + EXCLUDED.cost,
            revenue = m.revenue + EXCLUDED.revenue,
            revenue_out_of_window = m.revenue_out_of_window + EXCLUDED.revenue_out_of_window,
            attribution_lag_us = m.attribution_lag_us + EXCLUDED.attribution_lag_us,
            attribution_lag_count = m.attribution_lag_count + EXCLUDED.attribution_lag_count
        """;

    private static readonly Lazy<string> BackfillSql = new(() => Script("RollupBackfill.sql"));

    private static readonly Lazy<string> CampaignBackfillSql = new(() => Script("CampaignRollupBackfill.sql"));

    private static readonly Lazy<string> GeoPlatformBackfillSql = new(() => Script("GeoPlatformRollupBackfill.sql"));

    private static readonly Lazy<string> WeeklyBackfillSql = new(() => Script("WeeklyRollupBackfill.sql"));

    private static string Script(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Attribution.Projections.Rollups." + name)
                           ?? throw new InvalidOperationException(name + " is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static void BindCells(NpgsqlCommand cmd, List<HourlyCell> cells)
    {
        cmd.Parameters.Add(new NpgsqlParameter { Value = cells.Select(c => c.Hour).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        void Text(Func<HourlyCell, string?> pick) =>
            cmd.Parameters.Add(new NpgsqlParameter { Value = cells.Select(pick).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        Text(c => c.CampaignId);
        Text(c => c.CreativeId);
        Text(c => c.GeoCountry);
        Text(c => c.Platform);
    }
}
