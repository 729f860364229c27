using Attribution.Domain.Metrics;

namespace Attribution.Projections.Rollups;

/// <summary>A half-open time range; a null bound is open.</summary>
public readonly record struct TimeRange(DateTime? From, DateTime? To);

/// <summary>A range whose rows a source adds to the answer, or takes away from it.</summary>
public readonly record struct RangePart(TimeRange Range, bool Subtract = false)
{
    public static RangePart Add(DateTime? from, DateTime? to) => new(new TimeRange(from, to));

    public static RangePart Remove(DateTime from, DateTime to) => new(new TimeRange(from, to), Subtract: true);
}

/// <summary>
/// Which parts of [from, to) each source answers: whole weeks (Monday to Monday, UTC) from the weekly rollup, whole UTC
/// days from the daily one, whole hours from the hourly one, and what is left of a partial hour from Gold. A bound is
/// rounded to the nearer boundary: a range starting at 03:10 reads the 03:00 hour from the rollup and takes 03:00-03:10
/// away (read from Gold), rather than reading 03:10-04:00 from Gold; a range starting at 20:00 reads that whole day and
/// takes 00:00-20:00 away from the hourly rollup. An end at or after <c>now</c> is always rounded up: what is taken
/// away lies in the future, where there is nothing to read, so a range ending now (a dashboard's) reads today's and
/// this hour's rows as they are. Sums are linear, so the answer is exact whatever is there; each end reads at most half
/// an hour of Gold, half a day of hours and half a week of days, and a long range reads one row per cell per week.
/// </summary>
public sealed record RollupRange(
    IReadOnlyList<RangePart> Weekly, IReadOnlyList<RangePart> Daily, IReadOnlyList<RangePart> Hourly, IReadOnlyList<RangePart> Gold)
{
    /// <summary>Whether Gold answers the whole range (no rollup row is read).</summary>
    public bool GoldOnly => Weekly.Count == 0 && Daily.Count == 0 && Hourly.Count == 0;

    /// <param name="useDays">False when rows are grouped by hour, which the daily and weekly rollups cannot tell apart.</param>
    /// <param name="useWeeks">False when rows are grouped by day (or hour), which the weekly rollup cannot tell apart.</param>
    /// <param name="now">The present: an end at or after it is rounded up (null: always the nearer boundary).</param>
    public static RollupRange Plan(DateTime? from, DateTime? to, bool useDays = true, DateTime? now = null, bool useWeeks = true)
    {
        var hours = Round(from, to, TimeSpan.TicksPerHour, now);
        if (hours is null) return new RollupRange([], [], [], [RangePart.Add(from, to)]);
        var (hourFrom, hourTo, goldParts) = hours.Value;

        var days = useDays ? Round(hourFrom, hourTo, TimeSpan.TicksPerDay, now) : null;
        if (days is null) return new RollupRange([], [], [RangePart.Add(hourFrom, hourTo)], goldParts);
        var (dayFrom, dayTo, hourParts) = days.Value;

        var weeks = useWeeks ? Round(dayFrom, dayTo, HourlyRollupRule.TicksPerWeek, now) : null;
        if (weeks is null) return new RollupRange([], [RangePart.Add(dayFrom, dayTo)], hourParts, goldParts);
        var (weekFrom, weekTo, dayParts) = weeks.Value;
        return new RollupRange([RangePart.Add(weekFrom, weekTo)], dayParts, hourParts, goldParts);
    }

    /// <summary>
    /// [from, to) as whole units [outerFrom, outerTo) plus the finer parts that correct it; null when whole units
    /// would cost more than reading the finer source for the whole range (a range shorter than its corrections; a
    /// correction in the future costs nothing).
    /// </summary>
    private static (DateTime? From, DateTime? To, List<RangePart> Corrections)? Round(DateTime? from, DateTime? to, long unit, DateTime? now)
    {
        var corrections = new List<RangePart>(2);
        DateTime? outerFrom = from is { } f ? Nearer(f, unit, start: true, up: false, corrections) : null;
        DateTime? outerTo = to is { } t ? Nearer(t, unit, start: false, up: t >= now, corrections) : null;
        if (outerFrom is { } a && outerTo is { } b)
        {
            if (a >= b) return null;
            var corrected = corrections.Where(c => !(c.Range.From >= now))
                .Sum(c => (c.Range.To!.Value - c.Range.From!.Value).Ticks);
            if ((to!.Value - from!.Value).Ticks <= corrected) return null;
        }

        return (outerFrom, outerTo, corrections);
    }

    /// <summary>
    /// A bound moved to the nearer unit boundary (an end's to the one above when <paramref name="up"/>), and the piece
    /// between them as a correction: taken away when the boundary lies outside the range, added when inside (also on a
    /// tie, so the correction is never the larger piece).
    /// </summary>
    private static DateTime Nearer(DateTime bound, long unit, bool start, bool up, List<RangePart> corrections)
    {
        var down = Floor(bound, unit);
        if (down.Ticks == bound.Ticks) return down;
        var (outward, inward) = start ? (down, down.AddTicks(unit)) : (down.AddTicks(unit), down);
        var outwards = up || (outward - bound).Duration() < (inward - bound).Duration();
        var boundary = outwards ? outward : inward;
        var (lo, hi) = bound < boundary ? (bound, boundary) : (boundary, bound);
        corrections.Add(outwards ? RangePart.Remove(lo, hi) : RangePart.Add(lo, hi));
        return boundary;
    }

    private static DateTime Floor(DateTime t, long unit) => new(t.Ticks - (t.Ticks % unit), DateTimeKind.Utc);
}
