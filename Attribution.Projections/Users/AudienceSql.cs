using Attribution.Domain.Users;

namespace Attribution.Projections.Users;

/// <summary>
/// The SQL of the audience's groups, one copy for the query read from Gold and for the cube built from it, so both
/// group an impression the same way (Audience's rules: absent is "unknown"; an impression counts in each interest).
/// Every name spliced into a text comes from <see cref="Audience.Dimensions"/>, never from a request.
/// </summary>
internal static class AudienceSql
{
    /// <summary>Each band's group over the joined user version <c>u</c>; interest is the unnested <c>i.interest</c>.</summary>
    public static IReadOnlyDictionary<string, string> Group { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["age_band"] = $"coalesce(u.age_band, '{UserProfile.Unknown}')",
        ["gender"] = $"coalesce(u.gender, '{UserProfile.Unknown}')",
        ["country"] = $"coalesce(u.country, '{UserProfile.Unknown}')",
        ["segment"] = $"coalesce(u.segment, '{UserProfile.Unknown}')",
        ["interest"] = "i.interest",
    };

    /// <summary>The user's interests, or "unknown" alone when there are none (or no profile).</summary>
    public const string Interests = $"CASE WHEN cardinality(u.interests) > 0 THEN u.interests ELSE ARRAY['{UserProfile.Unknown}'] END";

    /// <summary>Design 000 §3.4's point-in-time join: the version valid at the impression time, if any.</summary>
    public const string ProfileJoin =
        "LEFT JOIN dim_users u ON u.user_id = f.user_id AND f.impression_time >= u.start_ts AND f.impression_time < u.end_ts";

    /// <summary>The sketches' precision: 2^13 registers of 5 bits, a standard error of about 1.2 % (the default 2^11 gave
    /// -6 % on one group of a bench run); exact (a list of hashes) up to 640 users, the size of the full form. Sketches
    /// are unioned only with equal parameters, so every sketch is made with these.</summary>
    private const string Precision = "13, 5";

    /// <summary>The reach of a set of impressions (<c>f</c>, or the staged rows) as a sketch.</summary>
    public static string ReachSketch(string userId = "f.user_id") => $"coalesce(hll_add_agg(hll_hash_text({userId}), {Precision}), hll_empty({Precision}))";

    /// <summary>A grouping's bit set: one bit per dimension, at its index in <see cref="Audience.Dimensions"/>.</summary>
    public static short Bits(IEnumerable<string> dimensions) =>
        (short)dimensions.Aggregate(0, (bits, d) => bits | 1 << Index(d));

    public static int Index(string dimension) =>
        Audience.Dimensions.Select((d, i) => (d, i)).Single(x => string.Equals(x.d, dimension, StringComparison.Ordinal)).i;

    /// <summary>
    /// The two statements that fill one day's cells from the staged <c>audience_day</c> rows ($1: the day): groupings
    /// without interest over the rows, groupings with it over the rows unnested by interest. Each statement makes both
    /// kinds of bucket in one pass (grouping sets by campaign for the day, by hour for all campaigns).
    /// </summary>
    public static IReadOnlyList<string> CellInserts { get; } = BuildCellInserts();

    private static List<string> BuildCellInserts()
    {
        var dims = Audience.Dimensions;
        var groupings = Enumerable.Range(0, 1 << dims.Count)
            .Where(bits => int.PopCount(bits) <= AudiencePlan.MaxCubeDimensions)
            .Select(bits => dims.Where((_, i) => (bits & 1 << i) != 0).ToList())
            .ToList();
        return
        [
            CellInsert(groupings.Where(g => !g.Contains("interest")), "audience_day", "NULL::text"),
            CellInsert(groupings.Where(g => g.Contains("interest")), "audience_day, unnest(interests) AS i(interest)", "interest"),
        ];
    }

    private static string CellInsert(IEnumerable<List<string>> groupings, string from, string interest)
    {
        var columns = Audience.Dimensions.Select(d => d == "interest" ? interest : d).ToList();
        var sets = groupings.SelectMany(g => new[] { "campaign_id", "hour" }.Select(grain => "(" + string.Join(", ", g.Prepend(grain)) + ")"));
        // Groups are never null (absent is "unknown"), so a null column is one the grouping set leaves out.
        var bits = string.Join(" + ", columns.Select((c, i) => $"CASE WHEN {c} IS NULL THEN 0 ELSE {1 << i} END"));
        var key2 = "CASE " + string.Join(" ", columns.SkipLast(1).Select((c, i) =>
            $"WHEN {c} IS NOT NULL THEN coalesce({string.Join(", ", columns.Skip(i + 1))}, '')")) + " ELSE '' END";
        return $"""
            INSERT INTO audience_cells (bucket, hourly, campaign_id, dims, key1, key2, impressions, clicks, conversions, cost, revenue, reach)
            SELECT CASE WHEN GROUPING(hour) = 0 THEN hour ELSE $1 END, GROUPING(hour) = 0,
                   CASE WHEN GROUPING(campaign_id) = 0 THEN campaign_id ELSE '' END,
                   ({bits})::smallint, coalesce({string.Join(", ", columns)}, ''), {key2},
                   count(*), count(*) FILTER (WHERE is_clicked), count(*) FILTER (WHERE is_converted), sum(cost), sum(revenue),
                   {ReachSketch("user_id")}
            FROM {from}
            GROUP BY GROUPING SETS ({string.Join(", ", sets)})
            """;
    }
}
