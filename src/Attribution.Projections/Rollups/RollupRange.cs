using Attribution.Domain.Metrics;

namespace Attribution.Projections.Rollups;

/// <summary>A half-open time range; a null bound is open.</summary>
public readonly record struct TimeRange(DateTime? From, DateTime? To);

/// <summary>
/// Which parts of [from, to) each source answers: whole UTC days from metrics_daily, the remaining whole hours from
/// metrics_hourly, and the partial hours at either end from Gold. Any range is exact, at most two hours touch Gold,
/// and a long range reads one row per cell per day.
/// </summary>
public sealed record RollupRange(TimeRange? Daily, IReadOnlyList<TimeRange> Hourly, IReadOnlyList<TimeRange> GoldEdges)
{
    /// <param name="useDays">False when rows are grouped by hour, which the daily rollup cannot tell apart.</param>
    public static RollupRange Plan(DateTime? from, DateTime? to, bool useDays = true)
    {
        var wholeFrom = Ceil(from, TimeSpan.TicksPerHour);
        var wholeTo = Floor(to, TimeSpan.TicksPerHour);
        if (wholeFrom >= wholeTo)
        {
            // No whole hour inside: Gold answers it all.
            return new RollupRange(null, [], [new TimeRange(from, to)]);
        }

        var edges = new List<TimeRange>(2);
        if (from != wholeFrom) edges.Add(new TimeRange(from, wholeFrom));
        if (to != wholeTo) edges.Add(new TimeRange(wholeTo, to));
        var dayFrom = Ceil(wholeFrom, TimeSpan.TicksPerDay);
        var dayTo = Floor(wholeTo, TimeSpan.TicksPerDay);
        if (!useDays || dayFrom >= dayTo) return new RollupRange(null, [new TimeRange(wholeFrom, wholeTo)], edges);

        var hours = new List<TimeRange>(2);
        if (wholeFrom != dayFrom) hours.Add(new TimeRange(wholeFrom, dayFrom));
        if (wholeTo != dayTo) hours.Add(new TimeRange(dayTo, wholeTo));
        return new RollupRange(new TimeRange(dayFrom, dayTo), hours, edges);
    }

    private static DateTime? Floor(DateTime? t, long unit) =>
        t is { } v ? new DateTime(v.Ticks - (v.Ticks % unit), DateTimeKind.Utc) : null;

    private static DateTime? Ceil(DateTime? t, long unit) =>
        t is { } v ? (v.Ticks % unit == 0 ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : new DateTime(v.Ticks - (v.Ticks % unit) + unit, DateTimeKind.Utc)) : null;
}
