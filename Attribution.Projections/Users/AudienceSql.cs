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

    /// <summary>One day's impressions ($1, $2: its bounds) with the groups of the profile valid at each, staged once for
    /// the statements below.</summary>
    public static string StageDay { get; } = $"""
        CREATE TEMP TABLE audience_day ON COMMIT DROP AS
        SELECT coalesce(f.campaign_id, '') AS campaign_id, f.impression_time,
               date_bin('1 hour', f.impression_time, timestamptz '2000-01-01 00:00:00+00') AS hour,
               f.user_id, f.is_clicked, f.is_converted, coalesce(f.cost, 0) AS cost, coalesce(f.revenue, 0) AS revenue,
               {Group["age_band"]} AS age_band, {Group["gender"]} AS gender, {Group["country"]} AS country, {Group["segment"]} AS segment,
               {Interests} AS interests
        FROM ad_performance_state f
        {ProfileJoin}
        WHERE f.impression_time >= $1 AND f.impression_time < $2
        """;

    /// <summary>The staged day's band values and interest sets not yet coded (AudienceFacts.sql), coded.</summary>
    public static IReadOnlyList<string> StageCodes { get; } =
    [
        """
        INSERT INTO audience_codes (value)
        SELECT v FROM (SELECT age_band FROM audience_day UNION SELECT gender FROM audience_day UNION SELECT country FROM audience_day
                       UNION SELECT segment FROM audience_day UNION SELECT unnest(interests) FROM audience_day) AS s(v)
        WHERE NOT EXISTS (SELECT 1 FROM audience_codes c WHERE c.value = s.v)
        """,
        """
        INSERT INTO audience_interest_sets (interests)
        SELECT DISTINCT interests FROM audience_day d
        WHERE NOT EXISTS (SELECT 1 FROM audience_interest_sets c WHERE c.interests = d.interests)
        """,
    ];

    /// <summary>The staged day's facts, coded ($1, $2: the day's bounds), in impression time order as they are read.</summary>
    public static string StageFacts { get; } = $"""
        INSERT INTO audience_facts (impression_time, campaign_id, user_hash, age_band, gender, country, segment, interests,
                                    is_clicked, is_converted, cost_micros, revenue_micros)
        SELECT d.impression_time, d.campaign_id, {UserHash("d.user_id")}, a.code, g.code, c.code, s.code, i.code,
               d.is_clicked, d.is_converted, {Micros("d.cost")}, {Micros("d.revenue")}
        FROM audience_day d
        JOIN audience_codes a ON a.value = d.age_band
        JOIN audience_codes g ON g.value = d.gender
        JOIN audience_codes c ON c.value = d.country
        JOIN audience_codes s ON s.value = d.segment
        JOIN audience_interest_sets i ON i.interests = d.interests
        ORDER BY d.impression_time
        """;

    /// <summary>The facts' user: a 64-bit hash, the same for the facts and for Gold's rows read beside them, so a user
    /// counts once in a group's exact reach whichever side it came from.</summary>
    public static string UserHash(string userId) => $"hashtextextended({userId}, 0)";

    /// <summary>Money (Gold's numeric(18, 6)) in micro-units: exact, and summed as integers (AudienceTally).</summary>
    public static string Micros(string amount) => $"({amount} * 1000000)::bigint";

    private static readonly List<string> Bands = Audience.Dimensions.Where(d => d != "interest").ToList();

    private static readonly string Measures =
        "count(*) AS impressions, count(*) FILTER (WHERE is_clicked) AS clicks, count(*) FILTER (WHERE is_converted) AS conversions, " +
        $"sum(cost) AS cost, sum(revenue) AS revenue, {ReachSketch("user_id")} AS reach";

    /// <summary>
    /// The finest cells of the staged day ($1: the day), all four bands, with one sketch update per impression, for
    /// both kinds of bucket in one pass of grouping sets: by campaign for the day, by hour for all campaigns. The band
    /// groupings are unions of these (a sketch update costs about as much as a union, and there are far fewer fine
    /// cells than impressions).
    /// </summary>
    public static string StageFineCells { get; } = $"""
        CREATE TEMP TABLE audience_fine ON COMMIT DROP AS
        SELECT CASE WHEN GROUPING(hour) = 0 THEN hour ELSE $1 END AS bucket, GROUPING(hour) = 0 AS hourly,
               CASE WHEN GROUPING(campaign_id) = 0 THEN campaign_id ELSE '' END AS campaign_id, {string.Join(", ", Bands)}, {Measures}
        FROM audience_day
        GROUP BY GROUPING SETS ((campaign_id, {string.Join(", ", Bands)}), (hour, {string.Join(", ", Bands)}))
        """;

    /// <summary>The cells of the groupings the cube covers (<see cref="AudiencePlan.Covers"/>) for the staged day ($1):
    /// the band groupings from the fine cells, interest alone from the rows unnested by interest.</summary>
    public static IReadOnlyList<string> CellInserts { get; } = BuildCellInserts();

    private static List<string> BuildCellInserts()
    {
        var groupings = Enumerable.Range(0, 1 << Bands.Count)
            .Where(bits => int.PopCount(bits) <= AudiencePlan.MaxCubeDimensions)
            .Select(bits => "(" + string.Join(", ", Bands.Where((_, i) => (bits & 1 << i) != 0)) + ")");
        return
        [
            CellInsert(Audience.Dimensions.Select(d => d == "interest" ? "NULL::text" : d).ToList(),
                "sum(impressions), sum(clicks), sum(conversions), sum(cost), sum(revenue), hll_union_agg(reach)",
                "audience_fine", $"bucket, hourly, campaign_id, GROUPING SETS ({string.Join(", ", groupings)})", "bucket", "hourly", "campaign_id"),
            CellInsert(Audience.Dimensions.Select(d => d == "interest" ? "interest" : "NULL::text").ToList(),
                Measures, "audience_day, unnest(interests) AS i(interest)", "GROUPING SETS ((campaign_id, interest), (hour, interest))",
                "CASE WHEN GROUPING(hour) = 0 THEN hour ELSE $1 END", "GROUPING(hour) = 0", "CASE WHEN GROUPING(campaign_id) = 0 THEN campaign_id ELSE '' END"),
        ];
    }

    /// <summary>An INSERT of cells: <paramref name="columns"/> are the groups of Audience.Dimensions as columns of the
    /// source (NULL::text where a statement has none), null where a grouping set leaves one out.</summary>
    private static string CellInsert(List<string> columns, string measures, string from, string groupBy, string bucket, string hourly, string campaign)
    {
        // Groups are never null (absent is "unknown"), so a null column is one the grouping set leaves out.
        var bits = string.Join(" + ", columns.Select((c, i) => $"CASE WHEN {c} IS NULL THEN 0 ELSE {1 << i} END"));
        var key2 = "CASE " + string.Join(" ", columns.SkipLast(1).Select((c, i) =>
            $"WHEN {c} IS NOT NULL THEN coalesce({string.Join(", ", columns.Skip(i + 1))}, '')")) + " ELSE '' END";
        return $"""
            INSERT INTO audience_cells (bucket, hourly, campaign_id, dims, key1, key2, impressions, clicks, conversions, cost, revenue, reach)
            SELECT {bucket}, {hourly}, {campaign}, ({bits})::smallint, coalesce({string.Join(", ", columns)}, ''), {key2}, {measures}
            FROM {from}
            GROUP BY {groupBy}
            """;
    }
}
