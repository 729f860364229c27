using System.Globalization;
using Attribution.Api.Infrastructure;

namespace Attribution.Api.Analytics;

/// <summary>Validation shared by the analytics endpoints, which scan Bronze or Gold and so need a bounded range.</summary>
public static class AnalyticsQuery
{
    /// <summary>The longest range a Bronze scan or a multi-touch run may cover.</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(92);

    /// <summary>Parses a required, non-empty, bounded half-open range [from, to).</summary>
    public static string? TryParseRequiredRange(string? from, string? to, out DateTime fromTime, out DateTime toTime)
    {
        fromTime = toTime = default;
        if (string.IsNullOrWhiteSpace(from) || string.IsNullOrWhiteSpace(to))
            return "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08";
        if (QueryTime.TryParseRange(from, to, out var f, out var t) is { } error) return error;
        fromTime = f!.Value;
        toTime = t!.Value;
        return toTime - fromTime > MaxRange
            ? string.Create(CultureInfo.InvariantCulture, $"the range may span at most {MaxRange.TotalDays} days, got {(toTime - fromTime).TotalDays:0.##}")
            : null;
    }

    /// <summary>Parses an optional integer in [min, max].</summary>
    public static string? TryParseInt(string? text, string name, int min, int max, int fallback, out int value)
    {
        value = fallback;
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value >= min && value <= max) return null;
        return $"'{name}' must be an integer from {min} to {max}, got '{text}'";
    }

    /// <summary>An optional id: absent or blank means no filter.</summary>
    public static string? Optional(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
