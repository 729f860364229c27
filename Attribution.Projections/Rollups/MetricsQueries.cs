using System.Globalization;
using System.Text;
using Attribution.Domain.Metrics;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Rollups;

/// <summary>The dimensions a metrics query may group by. The whitelist is the only way a request reaches SQL: each
/// name maps to a fixed expression over the query's source rows.</summary>
public static class MetricDimensions
{
    public const string CampaignId = "campaign_id";
    public const string CreativeId = "creative_id";
    public const string GeoCountry = "geo_country";
    public const string Platform = "platform";
    public const string Hour = "hour";
    public const string Day = "day";

    /// <summary>Extra columns of <c>include=budget_at_impression</c>: the campaign version valid at the impression.</summary>
    public const string CampaignKey = "campaign_key";
    public const string BudgetAtImpression = "budget_at_impression";
    public const string BudgetType = "budget_type";
    public const string StatusAtImpression = "status_at_impression";

    private static readonly Dictionary<string, string> Expressions = new(StringComparer.Ordinal)
    {
        [CampaignId] = "campaign_id",
        [CreativeId] = "creative_id",
        [GeoCountry] = "geo_country",
        [Platform] = "platform",
        [Hour] = "hour",
        [Day] = "date_trunc('day', hour, 'UTC')",
    };

    private static readonly string[] BudgetColumns = [CampaignKey, BudgetAtImpression, BudgetType, StatusAtImpression];

    public static IReadOnlyList<string> All { get; } = [CampaignId, CreativeId, GeoCountry, Platform, Hour, Day];

    public static bool IsTime(string dimension) => dimension is Hour or Day;

    /// <summary>Parses a comma-separated group_by; unknown or repeated names are errors, order is kept.</summary>
    public static string? TryParse(string? groupBy, out IReadOnlyList<string> dimensions)
    {
        var list = new List<string>();
        dimensions = list;
        if (string.IsNullOrWhiteSpace(groupBy)) return null;
        foreach (var raw in groupBy.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!Expressions.ContainsKey(raw))
                return $"unknown group_by dimension '{raw}'; allowed: {string.Join(", ", All)}";
            if (list.Contains(raw)) return $"group_by names '{raw}' twice";
            list.Add(raw);
        }

        if (list.Contains(Hour) && list.Contains(Day)) return "group_by may hold hour or day, not both";
        return null;
    }

    internal static string Expression(string dimension) => Expressions[dimension];

    public static IReadOnlyList<string> Budget => BudgetColumns;
}

/// <summary>Equality filters; each list holds the accepted values of one dimension (null: no filter).</summary>
public sealed record MetricsFilter(
    IReadOnlyList<string>? CampaignIds = null,
    IReadOnlyList<string>? CreativeIds = null,
    IReadOnlyList<string>? GeoCountries = null,
    IReadOnlyList<string>? Platforms = null);

public sealed record MetricsRequest(
    DateTime? From,
    DateTime? To,
    IReadOnlyList<string> GroupBy,
    MetricsFilter Filter,
    bool BudgetAtImpression = false,
    int Limit = MetricsRequest.DefaultLimit)
{
    public const int DefaultLimit = 10_000;
    public const int MaxLimit = 100_000;
}

/// <summary>One group: its dimension values (by dimension name) and its sums.</summary>
public sealed record MetricsCell(IReadOnlyDictionary<string, object?> Dimensions, HourlyMeasures Measures);

/// <param name="Source">"rollup" when whole hours came from metrics_hourly, "gold" when Gold answered it all.</param>
public sealed record MetricsResult(IReadOnlyList<MetricsCell> Rows, HourlyMeasures Totals, bool Truncated, string Source);

/// <summary>
/// Metrics for any combination of dimensions over [from, to) of impression_time: whole weeks and days from the weekly
/// and daily rollups, whole hours from the hourly one, the rest of partial hours from Gold (<see cref="RollupRange"/>), each from the
/// smallest tier that holds the dimensions asked for (<see cref="RollupTiers"/>), all in one statement. With budget_at_impression every impression is
/// joined to the campaign version valid at its impression_time (design 000 §3.4), which needs Gold for the whole range.
/// </summary>
public sealed class MetricsQueries(NpgsqlDataSource dataSource, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private const string Sums = """
        coalesce(sum(impressions), 0)::bigint, coalesce(sum(clicks), 0)::bigint, coalesce(sum(conversions), 0)::bigint,
        coalesce(sum(cost), 0), coalesce(sum(revenue), 0), coalesce(sum(revenue_out_of_window), 0),
        coalesce(sum(attribution_lag_us), 0)::bigint, coalesce(sum(attribution_lag_count), 0)::bigint
        """;

    private const string GoldColumns = """
        date_trunc('hour', g.impression_time, 'UTC') AS hour, g.campaign_id, g.creative_id, g.geo_country, g.platform,
        1 AS impressions, g.is_clicked::int AS clicks, g.is_converted::int AS conversions, g.cost, g.revenue,
        g.revenue_out_of_window,
        CASE WHEN g.is_converted AND g.conversion_time IS NOT NULL
             THEN (extract(epoch FROM g.conversion_time - g.impression_time) * 1000000)::bigint ELSE 0 END AS attribution_lag_us,
        (g.is_converted AND g.conversion_time IS NOT NULL)::int AS attribution_lag_count
        """;

    private static readonly string[] MeasureColumns =
        ["impressions", "clicks", "conversions", "cost", "revenue", "revenue_out_of_window", "attribution_lag_us", "attribution_lag_count"];

    /// <summary>A part's columns, its measures negated when the part is taken away from the answer.</summary>
    private static string Measures(RangePart part) =>
        "campaign_id, creative_id, geo_country, platform, " +
        string.Join(", ", MeasureColumns.Select(m => part.Subtract ? $"-{m} AS {m}" : m));

    public async Task<MetricsResult> QueryAsync(MetricsRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var args = new List<NpgsqlParameter>();
        string P(object? value, NpgsqlDbType type)
        {
            args.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });
            return "$" + args.Count.ToString(CultureInfo.InvariantCulture);
        }

        string Range(string column, TimeRange r)
        {
            var parts = new List<string>();
            if (r.From is { } f) parts.Add($"{column} >= {P(f, NpgsqlDbType.TimestampTz)}");
            if (r.To is { } t) parts.Add($"{column} < {P(t, NpgsqlDbType.TimestampTz)}");
            return parts.Count == 0 ? "true" : string.Join(" AND ", parts);
        }

        string source;
        string sourceName;
        var groupColumns = request.GroupBy.Select(MetricDimensions.Expression).ToList();
        var outputNames = request.GroupBy.ToList();
        if (request.BudgetAtImpression)
        {
            sourceName = "gold";
            source = $"""
                SELECT {GoldColumns}, d.campaign_key, d.budget_amount AS budget_at_impression, d.budget_type,
                       d.status AS status_at_impression
                FROM ad_performance_state g
                LEFT JOIN dim_campaigns d ON d.campaign_id = g.campaign_id
                      AND g.impression_time >= d.start_ts AND g.impression_time < d.end_ts
                WHERE g.impression_time IS NOT NULL AND {Range("g.impression_time", new TimeRange(request.From, request.To))}
                """;
            groupColumns.AddRange(MetricDimensions.Budget);
            outputNames.AddRange(MetricDimensions.Budget);
        }
        else
        {
            var plan = RollupRange.Plan(request.From, request.To, useDays: !request.GroupBy.Contains(MetricDimensions.Hour),
                now: _clock.GetUtcNow().UtcDateTime, useWeeks: !request.GroupBy.Any(MetricDimensions.IsTime));
            var tier = RollupTiers.Smallest(request.GroupBy, request.Filter);
            var parts = new List<string>();
            // Weekly and daily rows carry their start as "hour": the source is then grouped by nothing finer than they are.
            parts.AddRange(plan.Weekly.Select(w => $"SELECT week AS hour, {Measures(w)} FROM {tier.Weekly} WHERE {Range("week", w.Range)}"));
            parts.AddRange(plan.Daily.Select(d => $"SELECT day AS hour, {Measures(d)} FROM {tier.Daily} WHERE {Range("day", d.Range)}"));
            parts.AddRange(plan.Hourly.Select(h => $"SELECT hour, {Measures(h)} FROM {tier.Hourly} WHERE {Range("hour", h.Range)}"));
            parts.AddRange(plan.Gold.Select(g =>
                $"SELECT hour, {Measures(g)} FROM (SELECT {GoldColumns} FROM ad_performance_state g WHERE g.impression_time IS NOT NULL AND {Range("g.impression_time", g.Range)}) AS gold"));
            sourceName = plan.GoldOnly ? "gold" : "rollup";
            source = string.Join("\nUNION ALL\n", parts);
        }

        var filters = new List<string>();
        void Filter(string column, IReadOnlyList<string>? values)
        {
            if (values is { Count: > 0 }) filters.Add($"{column} = ANY({P(values.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)})");
        }

        Filter("campaign_id", request.Filter.CampaignIds);
        Filter("creative_id", request.Filter.CreativeIds);
        Filter("geo_country", request.Filter.GeoCountries);
        Filter("platform", request.Filter.Platforms);
        var where = filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters);

        var sql = new StringBuilder();
        sql.Append("WITH src AS (\n").Append(source).Append("\n)");
        if (groupColumns.Count == 0)
        {
            sql.Append($"\nSELECT true, {Sums} FROM src {where}");
        }
        else
        {
            var cols = string.Join(", ", groupColumns);
            var names = string.Join(", ", groupColumns.Select((_, i) => "d" + i.ToString(CultureInfo.InvariantCulture)));
            // Groups first, by hashing (one pass over the source rows), then the totals over the groups: a single
            // GROUPING SETS over the source rows sorts them all. A group whose rows were all taken away again (a part
            // subtracted at a range's edge) has no impression in the range and is no group of the answer: every Gold
            // row counts one impression.
            sql.Append($"""
                , groups AS (
                    SELECT {string.Join(", ", groupColumns.Select((c, i) => $"{c} AS d{i.ToString(CultureInfo.InvariantCulture)}"))},
                           {string.Join(", ", MeasureColumns.Select(m => $"sum({m}) AS {m}"))}
                    FROM src {where}
                    GROUP BY {cols}
                    HAVING sum(impressions) <> 0
                )
                SELECT GROUPING({names}) <> 0, {names}, {Sums} FROM groups GROUP BY GROUPING SETS (({names}), ())
                ORDER BY 1 DESC, {string.Join(", ", groupColumns.Select((_, i) => (i + 2).ToString(CultureInfo.InvariantCulture)))}
                LIMIT {P(request.Limit + 2, NpgsqlDbType.Integer)}
                """);
        }

        await using var cmd = dataSource.CreateCommand(sql.ToString());
        cmd.Parameters.AddRange(args.ToArray());
        var rows = new List<MetricsCell>();
        var totals = HourlyMeasures.Zero;
        var truncated = false;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var n = groupColumns.Count;
        while (await reader.ReadAsync(ct))
        {
            var measures = new HourlyMeasures(reader.GetInt64(n + 1), reader.GetInt64(n + 2), reader.GetInt64(n + 3),
                reader.GetDecimal(n + 4), reader.GetDecimal(n + 5), reader.GetDecimal(n + 6), reader.GetInt64(n + 7), reader.GetInt64(n + 8));
            if (reader.GetBoolean(0))
            {
                totals = measures;
                continue;
            }

            if (rows.Count == request.Limit)
            {
                truncated = true;
                break;
            }

            var dims = new Dictionary<string, object?>(n, StringComparer.Ordinal);
            for (var i = 0; i < n; i++)
            {
                var value = reader.IsDBNull(i + 1) ? null : reader.GetValue(i + 1);
                dims[outputNames[i]] = value is DateTime t ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : value;
            }

            rows.Add(new MetricsCell(dims, measures));
        }

        return new MetricsResult(rows, totals, truncated, sourceName);
    }
}
