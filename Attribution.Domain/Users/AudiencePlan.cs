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
    /// Splits [from, to) between the cube and Gold: a bucket comes from the cube when it lies whole inside the range and
    /// is clean (<see cref="AudienceFreshness"/>: an hour, or for a day each of its hours); every other instant, and
    /// every grouping the cube does not cover (<see cref="Covers"/>), is read live. A query for one campaign reads day
    /// cells (the cube keeps them per campaign), a query over all campaigns hour cells (kept for all together).
    /// </summary>
    public static AudiencePlan For(DateTime from, DateTime to, bool oneCampaign, bool covered, AudienceFreshness freshness)
    {
        ArgumentNullException.ThrowIfNull(freshness);
        var buckets = new List<DateTime>();
        var live = new List<(DateTime From, DateTime To)>();
        if (to <= from) return new AudiencePlan(buckets, live);
        if (!covered || freshness.BuiltDays.Count == 0)
        {
            live.Add((from, to));
            return new AudiencePlan(buckets, live);
        }

        var step = oneCampaign ? TimeSpan.FromDays(1) : AudienceFreshness.Hour;
        var liveFrom = from;
        for (var bucket = Ceiling(from, step); bucket + step <= to; bucket += step)
        {
            if (oneCampaign ? !freshness.IsClean(DateOnly.FromDateTime(bucket)) : !freshness.IsClean(bucket)) continue;
            if (liveFrom < bucket) live.Add((liveFrom, bucket));
            buckets.Add(bucket);
            liveFrom = bucket + step;
        }

        if (liveFrom < to) live.Add((liveFrom, to));
        return new AudiencePlan(buckets, live);
    }

    /// <summary>
    /// Splits [from, to) between the audience facts and Gold for a grouping read row by row (one the cube does not
    /// cover). The facts keep every impression of the cube's days, so any part of a clean hour
    /// (<see cref="AudienceFreshness"/>) is read from them, however the range cuts it; every other instant is read
    /// live. Ranges of one source are as few as can be: none touches another of its kind.
    /// </summary>
    public static AudienceRowPlan ForRows(DateTime from, DateTime to, AudienceFreshness freshness)
    {
        ArgumentNullException.ThrowIfNull(freshness);
        var facts = new List<(DateTime From, DateTime To)>();
        var live = new List<(DateTime From, DateTime To)>();
        for (var at = from; at < to;)
        {
            var hour = AudienceFreshness.HourOf(at);
            var end = hour + AudienceFreshness.Hour < to ? hour + AudienceFreshness.Hour : to;
            var ranges = freshness.IsClean(hour) ? facts : live;
            if (ranges.Count > 0 && ranges[^1].To == at) ranges[^1] = (ranges[^1].From, end);
            else ranges.Add((at, end));
            at = end;
        }

        return new AudienceRowPlan(facts, live);
    }

    private static DateTime Ceiling(DateTime t, TimeSpan step)
    {
        var floor = new DateTime(t.Ticks - t.Ticks % step.Ticks, t.Kind);
        return floor == t ? t : floor + step;
    }
}

/// <summary>Where a grouping read row by row reads each part of its range.</summary>
/// <param name="Facts">The half-open ranges read from the audience facts (clean days), in order.</param>
/// <param name="Live">The half-open ranges read from Gold joined to dim_users, in order.</param>
public sealed record AudienceRowPlan(IReadOnlyList<(DateTime From, DateTime To)> Facts, IReadOnlyList<(DateTime From, DateTime To)> Live);
