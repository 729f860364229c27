using System.Globalization;

namespace Attribution.Api.Infrastructure;

/// <summary>Time bounds in query strings: ISO-8601 or Unix epoch seconds.</summary>
public static class QueryTime
{
    /// <summary>No event is later (the parser refuses it), and rounding a later bound up to whole hours, days or
    /// weeks for the rollups would leave DateTime's range.</summary>
    public static readonly DateTime Latest = new(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static bool TryParse(string? text, string name, out DateTime? value, out string? error)
    {
        value = null;
        error = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds is > 0 and < 253402300800m) value = Domain.Events.EventParser.FromUnixSeconds(seconds);
        }
        else if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t))
        {
            value = DateTime.SpecifyKind(t, DateTimeKind.Utc);
        }

        if (value is null)
        {
            error = $"'{name}' must be an ISO-8601 time or Unix epoch seconds, got '{text}'";
            return false;
        }

        if (value >= Latest)
        {
            value = null;
            error = $"'{name}' must be before {Latest:yyyy-MM-dd}, got '{text}'";
            return false;
        }

        return true;
    }

    /// <summary>Parses a half-open [from, to) range and checks that it is not empty.</summary>
    public static string? TryParseRange(string? from, string? to, out DateTime? fromValue, out DateTime? toValue)
    {
        toValue = null;
        if (!TryParse(from, "from", out fromValue, out var error)) return error;
        if (!TryParse(to, "to", out toValue, out error)) return error;
        return fromValue is not null && toValue is not null && fromValue >= toValue
            ? $"'from' ({fromValue:O}) must be before 'to' ({toValue:O})"
            : null;
    }
}
