using System.Runtime.InteropServices;
using Attribution.Domain.Attribution;

namespace Attribution.Domain.Metrics;

/// <summary>One cell of the hourly rollup: the hour of the impression and the four dimensions analysts slice by. A value
/// (as are the measures): a batch makes two of each per Gold row it replaces, and as objects they were a tenth of the
/// pipeline's allocations.</summary>
/// <param name="Hour">The UTC hour that holds the impression_time.</param>
public readonly record struct HourlyCell(DateTime Hour, string? CampaignId, string? CreativeId, string? GeoCountry, string? Platform);

/// <summary>
/// The additive measures of a rollup cell. The attribution lag is kept in whole microseconds (the resolution of
/// every stored time) so that adding and subtracting deltas stays exact, unlike a floating-point sum of seconds.
/// </summary>
public readonly record struct HourlyMeasures(
    long Impressions,
    long Clicks,
    long Conversions,
    decimal Cost,
    decimal Revenue,
    decimal RevenueOutOfWindow,
    long AttributionLagMicros,
    long AttributionLagCount)
{
    public static HourlyMeasures Zero { get; }

    public bool IsZero => this == Zero;

    public HourlyMeasures Plus(HourlyMeasures o) =>
        new(Impressions + o.Impressions, Clicks + o.Clicks, Conversions + o.Conversions, Cost + o.Cost, Revenue + o.Revenue,
            RevenueOutOfWindow + o.RevenueOutOfWindow, AttributionLagMicros + o.AttributionLagMicros, AttributionLagCount + o.AttributionLagCount);

    public HourlyMeasures Negate() => new(-Impressions, -Clicks, -Conversions, -Cost, -Revenue, -RevenueOutOfWindow, -AttributionLagMicros, -AttributionLagCount);

    /// <summary>The sums every ratio of <see cref="PerformanceMetrics"/> is derived from.</summary>
    public PerformanceTotals ToTotals() => new(Impressions, Clicks, Conversions, Cost, Revenue, RevenueOutOfWindow,
        AttributionLagMicros / 1_000_000d, AttributionLagCount);
}

/// <summary>What one Gold row adds to the hourly rollup, and the change a Gold update makes to it.</summary>
public static class HourlyRollupRule
{
    /// <summary>
    /// Design 000 §4.1 over Gold: a row is one impression, a click when is_clicked, a conversion when is_converted,
    /// with its cost, revenue and revenue_out_of_window; its lag is conversion_time − impression_time when converted.
    /// A row without an impression (only its click or conversion arrived so far) counts nowhere, as in the campaign view.
    /// </summary>
    public static (HourlyCell Cell, HourlyMeasures Measures)? Contribution(GoldState row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (row.ImpressionTime is not { } impressionTime) return null;
        var hasLag = row.IsConverted && row.ConversionTime is not null;
        var lagMicros = hasLag ? (row.ConversionTime!.Value - impressionTime).Ticks / (TimeSpan.TicksPerMillisecond / 1000) : 0;
        var cell = new HourlyCell(HourOf(impressionTime), row.CampaignId, row.CreativeId, row.GeoCountry, row.Platform);
        return (cell, new HourlyMeasures(1, row.IsClicked ? 1 : 0, row.IsConverted ? 1 : 0, row.Cost, row.Revenue,
            row.RevenueOutOfWindow, lagMicros, hasLag ? 1 : 0));
    }

    /// <summary>
    /// The change to the rollup when Gold rows go from <paramref name="before"/> (absent for new impressions) to
    /// <paramref name="after"/>: minus each old contribution, plus each new one, summed per cell, cells that net to
    /// nothing left out. Ordered by cell so that concurrent writers lock rollup rows in the same order.
    /// </summary>
    public static IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> Delta(IEnumerable<GoldState> before, IEnumerable<GoldState> after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var cells = new Dictionary<HourlyCell, HourlyMeasures>();
        foreach (var row in before)
        {
            if (Contribution(row) is { } c) Add(cells, c.Cell, c.Measures.Negate());
        }

        foreach (var row in after)
        {
            if (Contribution(row) is { } c) Add(cells, c.Cell, c.Measures);
        }

        return NonZeroInOrder(cells);
    }

    private static void Add(Dictionary<HourlyCell, HourlyMeasures> cells, HourlyCell cell, HourlyMeasures delta)
    {
        // A missing cell starts at default, which is Zero.
        ref var sum = ref CollectionsMarshal.GetValueRefOrAddDefault(cells, cell, out _);
        sum = sum.Plus(delta);
    }

    /// <summary>The cells that do not net to nothing, ordered by cell. A batch computes these for thousands of cells
    /// and nine tables, so one list sorted in place, not a query per step.</summary>
    private static List<(HourlyCell Cell, HourlyMeasures Delta)> NonZeroInOrder(Dictionary<HourlyCell, HourlyMeasures> cells)
    {
        var list = new List<(HourlyCell Cell, HourlyMeasures Delta)>(cells.Count);
        foreach (var (cell, delta) in cells)
        {
            if (!delta.IsZero) list.Add((cell, delta));
        }

        // The keys are distinct, so an unstable sort still gives one order.
        list.Sort(static (a, b) => Compare(a.Cell, b.Cell));
        return list;
    }

    private static int Compare(HourlyCell a, HourlyCell b)
    {
        var c = a.Hour.CompareTo(b.Hour);
        if (c == 0) c = string.CompareOrdinal(a.CampaignId, b.CampaignId);
        if (c == 0) c = string.CompareOrdinal(a.CreativeId, b.CreativeId);
        if (c == 0) c = string.CompareOrdinal(a.GeoCountry, b.GeoCountry);
        if (c == 0) c = string.CompareOrdinal(a.Platform, b.Platform);
        return c;
    }

    /// <summary>The same deltas summed per UTC day (the cell's Hour holding the day's midnight), in the same order.</summary>
    public static IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> ByDay(IEnumerable<(HourlyCell Cell, HourlyMeasures Delta)> hourly) =>
        SumOver(hourly, c => c with { Hour = DayOf(c.Hour) });

    /// <summary>The same deltas summed per week (the cell's Hour holding its Monday's midnight, UTC), in the same order.</summary>
    public static IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> ByWeek(IEnumerable<(HourlyCell Cell, HourlyMeasures Delta)> cells) =>
        SumOver(cells, c => c with { Hour = WeekOf(c.Hour) });

    /// <summary>The same deltas summed into coarser cells (a rollup tier that drops some dimensions), cells that net to
    /// nothing left out, in the same order.</summary>
    public static IReadOnlyList<(HourlyCell Cell, HourlyMeasures Delta)> SumOver(
        IEnumerable<(HourlyCell Cell, HourlyMeasures Delta)> cells, Func<HourlyCell, HourlyCell> coarser)
    {
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(coarser);
        var sums = new Dictionary<HourlyCell, HourlyMeasures>();
        foreach (var (cell, delta) in cells) Add(sums, coarser(cell), delta);
        return NonZeroInOrder(sums);
    }

    public static DateTime DayOf(DateTime t) => new(t.Ticks - (t.Ticks % TimeSpan.TicksPerDay), DateTimeKind.Utc);

    /// <summary>The Monday 00:00 UTC starting t's week, as PostgreSQL's date_trunc('week') (ISO weeks): tick 0,
    /// 0001-01-01, is a Monday, so whole weeks of ticks start on Mondays.</summary>
    public static DateTime WeekOf(DateTime t) => new(t.Ticks - (t.Ticks % TicksPerWeek), DateTimeKind.Utc);

    public const long TicksPerWeek = 7 * TimeSpan.TicksPerDay;

    public static DateTime HourOf(DateTime t) =>
        new(t.Ticks - (t.Ticks % TimeSpan.TicksPerHour), DateTimeKind.Utc);
}
