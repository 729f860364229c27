using Attribution.Domain.Metrics;

namespace Attribution.Projections.Rollups;

/// <summary>A half-open time range; a null bound is open.</summary>
public readonly record struct TimeRange(DateTime? From, DateTime? To);

/// <summary>
/// Which part of [from, to) the hourly rollup answers (the whole hours) and which parts Gold must answer (the partial
/// hours at either end), so that any range is exact and only the edges, at most two hours, touch Gold.
/// </summary>
public sealed record RollupRange(TimeRange? Rollup, IReadOnlyList<TimeRange> GoldEdges)
{
    public static RollupRange Plan(DateTime? from, DateTime? to)
    {
        var wholeFrom = from is { } f ? CeilHour(f) : (DateTime?)null;
        var wholeTo = to is { } t ? HourlyRollupRule.HourOf(t) : (DateTime?)null;
        if (wholeFrom is not null && wholeTo is not null && wholeFrom >= wholeTo)
        {
            // No whole hour inside: Gold answers it all.
            return new RollupRange(null, [new TimeRange(from, to)]);
        }

        var edges = new List<TimeRange>(2);
        if (from != wholeFrom) edges.Add(new TimeRange(from, wholeFrom));
        if (to != wholeTo) edges.Add(new TimeRange(wholeTo, to));
        return new RollupRange(new TimeRange(wholeFrom, wholeTo), edges);
    }

    private static DateTime CeilHour(DateTime t)
    {
        var floor = HourlyRollupRule.HourOf(t);
        return floor == t ? floor : floor.AddHours(1);
    }
}
