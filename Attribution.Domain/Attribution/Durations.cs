using System.Globalization;

namespace Attribution.Domain.Attribution;

/// <summary>Human durations for explanations: the two largest units, "4 m 12 s", "8 d 0 h".</summary>
public static class Durations
{
    public static string Format(TimeSpan span)
    {
        var sign = span < TimeSpan.Zero ? "-" : "";
        span = span.Duration();
        var parts = span.TotalDays >= 1 ? ((long)span.TotalDays, "d", span.Hours, "h")
            : span.TotalHours >= 1 ? (span.Hours, "h", span.Minutes, "m")
            : span.TotalMinutes >= 1 ? (span.Minutes, "m", span.Seconds, "s")
            : ((long)span.TotalSeconds, "s", -1, "");
        return parts.Item3 < 0
            ? string.Create(CultureInfo.InvariantCulture, $"{sign}{parts.Item1} {parts.Item2}")
            : string.Create(CultureInfo.InvariantCulture, $"{sign}{parts.Item1} {parts.Item2} {parts.Item3} {parts.Item4}");
    }
}
