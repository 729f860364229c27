namespace Attribution.Domain.Users;

/// <summary>Where an audience query reads each part of its range: whole cube buckets, and the rest from Gold.</summary>
/// <param name="CubeBuckets">The starts of the buckets read from the cube (days for one campaign, hours for all), in order.</param>
/// <param name="Live">The half-open ranges read from Gold joined to dim_users, in order, none adjacent to another.</param>
public sealed record AudiencePlan(IReadOnlyList<DateTime> CubeBuckets, IReadOnlyList<(DateTime From, DateTime To)> Live)
{
    /// <summary>The most bands a grouping the cube keeps cells for has.</summary>
    public const int MaxCubeDimensions = 2;

    /// <summary>
    /// Whether the cube keeps cells for a grouping: up to <see cref="MaxCubeDimensions"/> of the bands, or interest
    /// alone. An impression counts once in each of its user's interests, so cells by interest and another band cost a
    /// sketch update per interest and band: a refresh spent more than half its time on them (issue 21's bench), so
    /// those groupings read Gold.
    /// </summary>
    public static bool Covers(IReadOnlyCollection<string> groupBy)
    {
        ArgumentNullException.ThrowIfNull(groupBy);
        return groupBy.Contains("interest") ? groupBy.Count == 1 : groupBy.Count <= MaxCubeDimensions;
    }

    /// <summary>
    /// Splits [from, to) between the cube and Gold. Design rule "the audience cube answers only for what it is exact
    /// for" (issue 21): a bucket comes from the cube when it lies whole inside the range and its day is clean (built, and
    /// no Gold row or profile of that day changed since); every other instant, and every grouping the cube does not
    /// cover (<see cref="Covers"/>), is read live. A query for one campaign
    /// reads day cells (the cube keeps them per campaign), a query over all campaigns hour cells (kept for all together).
    /// </summary>
    public static AudiencePlan For(DateTime from, DateTime to, bool oneCampaign, bool covered, IReadOnlySet<DateOnly> cleanDays)
    {
        ArgumentNullException.ThrowIfNull(cleanDays);
        var buckets = new List<DateTime>();
        var live = new List<(DateTime From, DateTime To)>();
        if (to <= from) return new AudiencePlan(buckets, live);
        if (!covered || cleanDays.Count == 0)
        {
            live.Add((from, to));
            return new AudiencePlan(buckets, live);
        }

        var step = oneCampaign ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
        var liveFrom = from;
        for (var bucket = Ceiling(from, step); bucket + step <= to; bucket += step)
        {
            if (!cleanDays.Contains(DateOnly.FromDateTime(bucket))) continue;
            if (liveFrom < bucket) live.Add((liveFrom, bucket));
            buckets.Add(bucket);
            liveFrom = bucket + step;
        }

        if (liveFrom < to) live.Add((liveFrom, to));
        return new AudiencePlan(buckets, live);
    }

    private static DateTime Ceiling(DateTime t, TimeSpan step)
    {
        var floor = new DateTime(t.Ticks - t.Ticks % step.Ticks, t.Kind);
        return floor == t ? t : floor + step;
    }
}
