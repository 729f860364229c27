namespace Attribution.Domain.Users;

/// <summary>
/// Which hours the audience cube and its facts hold exactly. Design rule "the audience cube answers only for what it is
/// exact for" (issue 21): an hour is clean when its day is built and, since the refresh that built it, no Gold row of
/// that hour changed and no profile change regroups impressions of it. Hours, not days: under live traffic the current
/// hour changes all the time, and the rest of its day stays exact.
/// </summary>
/// <param name="BuiltDays">The days the cube holds (UTC).</param>
/// <param name="DirtyHours">The starts of the hours whose Gold rows changed since the last refresh.</param>
/// <param name="RegroupedFrom">The earliest impression time a profile change since the last refresh regroups, if any.</param>
public sealed record AudienceFreshness(IReadOnlySet<DateOnly> BuiltDays, IReadOnlySet<DateTime> DirtyHours, DateTime? RegroupedFrom)
{
    public static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    public static AudienceFreshness Nothing { get; } = new(new HashSet<DateOnly>(), new HashSet<DateTime>(), null);

    /// <summary>Whether the hour starting at <paramref name="hour"/> (a whole UTC hour) is held exactly.</summary>
    public bool IsClean(DateTime hour) =>
        BuiltDays.Contains(DateOnly.FromDateTime(hour)) && !DirtyHours.Contains(hour) && (RegroupedFrom is not { } from || hour + Hour <= from);

    /// <summary>Whether every hour of the day is held exactly.</summary>
    public bool IsClean(DateOnly day)
    {
        var start = day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        for (var h = 0; h < 24; h++)
        {
            if (!IsClean(start.AddHours(h))) return false;
        }

        return true;
    }

    /// <summary>The start of the UTC hour holding <paramref name="t"/>.</summary>
    public static DateTime HourOf(DateTime t) => new(t.Ticks - t.Ticks % Hour.Ticks, t.Kind);
}
