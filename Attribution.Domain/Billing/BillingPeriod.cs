using System.Globalization;

namespace Attribution.Domain.Billing;

/// <summary>A calendar month in UTC, the unit a bill is closed in, spelled yyyy-mm.</summary>
public readonly record struct BillingPeriod(int Year, int Month) : IComparable<BillingPeriod>
{
    public DateTimeOffset Start => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    public DateTimeOffset End => Start.AddMonths(1);

    public BillingPeriod Next => Of(End);

    public BillingPeriod Previous => Of(Start.AddMonths(-1));

    public static BillingPeriod Of(DateTimeOffset t)
    {
        var utc = t.ToUniversalTime();
        return new BillingPeriod(utc.Year, utc.Month);
    }

    /// <summary>Parses exactly yyyy-mm (years 2000-9998, so that the month's end is a time PostgreSQL stores).</summary>
    public static bool TryParse(string? text, out BillingPeriod period)
    {
        period = default;
        if (text is not { Length: 7 } || text[4] != '-') return false;
        if (!int.TryParse(text.AsSpan(0, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(text.AsSpan(5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)) return false;
        if (year is < 2000 or > 9998 || month is < 1 or > 12) return false;
        period = new BillingPeriod(year, month);
        return true;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Year:D4}-{Month:D2}");

    public int CompareTo(BillingPeriod other) => (Year, Month).CompareTo((other.Year, other.Month));

    public static bool operator <(BillingPeriod a, BillingPeriod b) => a.CompareTo(b) < 0;

    public static bool operator >(BillingPeriod a, BillingPeriod b) => a.CompareTo(b) > 0;

    public static bool operator <=(BillingPeriod a, BillingPeriod b) => a.CompareTo(b) <= 0;

    public static bool operator >=(BillingPeriod a, BillingPeriod b) => a.CompareTo(b) >= 0;
}

/// <summary>Closed periods (issue 22): what may be closed, and which open month carries a closed month's late events.</summary>
public static class BillingPeriods
{
    /// <summary>Issue 22 "closed periods": a month closes once, and only after it has ended, so no event time of it is
    /// still to come. Null when the month may close now.</summary>
    public static string? CloseError(BillingPeriod period, DateTimeOffset now, bool alreadyClosed) =>
        alreadyClosed ? $"{period} is already closed; a closed period is never recomputed"
        : period.End > now ? $"{period} has not ended yet (it ends at {period.End:yyyy-MM-dd'T'HH:mm:ss'Z'})"
        : null;

    /// <summary>Issue 22 "adjustments": events that reach a closed month late are billed in the next open month, so
    /// an open month carries the adjustments of the closed months right before it (back to the first open one).</summary>
    public static IReadOnlyList<BillingPeriod> CorrectedIn(BillingPeriod open, IReadOnlySet<BillingPeriod> closed)
    {
        ArgumentNullException.ThrowIfNull(closed);
        var corrected = new List<BillingPeriod>();
        for (var p = open.Previous; closed.Contains(p); p = p.Previous) corrected.Add(p);
        corrected.Reverse();
        return corrected;
    }
}
