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
/// Which parts of [from, to) each source answers: whole UTC days from the daily rollup, whole hours from the hourly
/// one, and what is left of a partial hour from Gold. A bound is rounded to the nearer boundary: a range starting at
/// 03:10 reads the 03:00 hour from the rollup and takes 03:00-03:10 away (read from Gold), rather than reading
/// 03:10-04:00 from Gold; a range starting at 20:00 reads that whole day and takes 00:00-20:00 away from the hourly
/// rollup. Sums are linear, so the answer is exact; each end reads at most half an hour of Gold and half a day of
/// hours, and a long range reads one row per cell per day.
/// </summary>
public sealed record RollupRange(IReadOnlyList<RangePart> Daily, IReadOnlyList<RangePart> Hourly, IReadOnlyList<RangePart> Gold)
{
    /// <summary>Whether Gold answers the whole range (no rollup row is read).</summary>
    public bool GoldOnly => Daily.Count == 0 && Hourly.Count == 0;

    /// <param name="useDays">False when rows are grouped by hour, which the daily rollup cannot tell apart.</param>
    public static RollupRange Plan(DateTime? from, DateTime? to, bool useDays = true)
    {
        var hours = Round(from, to, TimeSpan.TicksPerHour);
        if (hours is null) return new RollupRange([], [], [RangePart.Add(from, to)]);
        var (hourFrom, hourTo, goldParts) = hours.Value;

        var days = useDays ? Round(hourFrom, hourTo, TimeSpan.TicksPerDay) : null;
        if (days is null) return new RollupRange([], [RangePart.Add(hourFrom, hourTo)], goldParts);
        var (dayFrom, dayTo, hourParts) = days.Value;
        return new RollupRange([RangePart.Add(dayFrom, dayTo)], hourParts, goldParts);
    }

    /// <summary>
    /// [from, to) as whole units [outerFrom, outerTo) plus the finer parts that correct it; null when whole units
    /// would cost more than reading the finer source for the whole range (a range shorter than its corrections).
    /// </summary>
    private static (DateTime? From, DateTime? To, List<RangePart> Corrections)? Round(DateTime? from, DateTime? to, long unit)
    {
        var corrections = new List<RangePart>(2);
        var outerFrom = from;
        if (from is { } f && f.Ticks % unit != 0)
        {
            var down = Floor(f, unit);
            var up = down.AddTicks(unit);
            // The nearer boundary: the correction is the shorter of the two pieces.
            if (f - down < up - f)
            {
                outerFrom = down;
                corrections.Add(RangePart.Remove(down, f));
            }
            else
            {
                outerFrom = up;
                corrections.Add(RangePart.Add(f, up));
            }
        }

        var outerTo = to;
        if (to is { } t && t.Ticks % unit != 0)
        {
            var down = Floor(t, unit);
            var up = down.AddTicks(unit);
            if (up - t < t - down)
            {
                outerTo = up;
                corrections.Add(RangePart.Remove(t, up));
            }
            else
            {
                outerTo = down;
                corrections.Add(RangePart.Add(down, t));
            }
        }

        if (outerFrom is { } a && outerTo is { } b)
        {
            if (a >= b) return null;
            var corrected = corrections.Sum(c => (c.Range.To!.Value - c.Range.From!.Value).Ticks);
            if (from is { } f2 && to is { } t2 && corrected >= (t2 - f2).Ticks) return null;
        }

        return (outerFrom is { } x ? DateTime.SpecifyKind(x, DateTimeKind.Utc) : null,
            outerTo is { } y ? DateTime.SpecifyKind(y, DateTimeKind.Utc) : null, corrections);
    }

    private static DateTime Floor(DateTime t, long unit) => new(t.Ticks - (t.Ticks % unit), DateTimeKind.Utc);
}
