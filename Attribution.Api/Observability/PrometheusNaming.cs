using System.Text;

namespace Attribution.Api.Observability;

/// <summary>The Prometheus family a metric is exposed as.</summary>
public enum PrometheusMetricType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// Turns OpenTelemetry-style instrument names, units and tag keys into legal Prometheus names, following the
/// OpenTelemetry "Prometheus and OpenMetrics compatibility" conventions so dashboards written against other
/// exporters keep working.
/// </summary>
internal static class PrometheusNaming
{
    private const string TotalSuffix = "_total";

    // UCUM units as .NET instrumentation writes them, spelled out the way Prometheus base units are named.
    private static readonly Dictionary<string, string> UnitWords = new(StringComparer.Ordinal)
    {
        ["d"] = "days",
        ["h"] = "hours",
        ["min"] = "minutes",
        ["s"] = "seconds",
        ["ms"] = "milliseconds",
        ["us"] = "microseconds",
        ["ns"] = "nanoseconds",
        ["By"] = "bytes",
        ["KiBy"] = "kibibytes",
        ["MiBy"] = "mebibytes",
        ["GiBy"] = "gibibytes",
        ["TiBy"] = "tibibytes",
        ["KBy"] = "kilobytes",
        ["MBy"] = "megabytes",
        ["GBy"] = "gigabytes",
        ["TBy"] = "terabytes",
        ["m"] = "meters",
        ["V"] = "volts",
        ["A"] = "amperes",
        ["J"] = "joules",
        ["W"] = "watts",
        ["g"] = "grams",
        ["Cel"] = "celsius",
        ["Hz"] = "hertz",
        ["%"] = "percent",
    };

    // The denominator of a rate unit ("By/s") reads as a singular word: bytes_per_second.
    private static readonly Dictionary<string, string> PerUnitWords = new(StringComparer.Ordinal)
    {
        ["s"] = "second",
        ["m"] = "minute",
        ["h"] = "hour",
        ["d"] = "day",
        ["w"] = "week",
        ["mo"] = "month",
        ["y"] = "year",
    };

    /// <summary>The exposed family name: sanitised instrument name, unit suffix, and <c>_total</c> for counters.</summary>
    public static string MetricName(string instrumentName, string? unit, PrometheusMetricType type)
    {
        var name = SanitizeMetricName(instrumentName);

        // Design rule "counter names end in _total": the unit goes before it, so strip a hand-written one first.
        var isCounter = type == PrometheusMetricType.Counter;
        if (isCounter && name.EndsWith(TotalSuffix, StringComparison.Ordinal) && name.Length > TotalSuffix.Length)
        {
            name = name[..^TotalSuffix.Length];
        }

        var suffix = UnitSuffix(unit, type);
        if (suffix.Length > 0 && !name.EndsWith("_" + suffix, StringComparison.Ordinal) && name != suffix)
        {
            name = name + "_" + suffix;
        }

        return isCounter ? name + TotalSuffix : name;
    }

    /// <summary>The word a unit adds to a metric name, or "" when the unit adds nothing (annotations like "{request}").</summary>
    public static string UnitSuffix(string? unit, PrometheusMetricType type)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return "";
        }

        var stripped = StripAnnotations(unit).Trim();
        if (stripped.Length == 0)
        {
            return "";
        }

        // A dimensionless "1" only means something for gauges (a ratio); a counter of "1" is just a count.
        if (stripped == "1")
        {
            return type == PrometheusMetricType.Gauge ? "ratio" : "";
        }

        var slash = stripped.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            var numerator = stripped[..slash];
            var denominator = stripped[(slash + 1)..];
            var top = numerator.Length == 0 || numerator == "1" ? "" : Word(numerator, UnitWords);
            var bottom = Word(denominator, PerUnitWords);
            var rate = top.Length == 0 ? "per_" + bottom : top + "_per_" + bottom;
            return CollapseAndTrim(rate);
        }

        return CollapseAndTrim(Word(stripped, UnitWords));
    }

    /// <summary>Metric names keep to [a-zA-Z0-9_]; colons are legal but reserved for recording rules, so exporters avoid them.</summary>
    public static string SanitizeMetricName(string name)
    {
        var sanitized = Sanitize(name);
        return char.IsAsciiDigit(sanitized[0]) ? "_" + sanitized : sanitized;
    }

    /// <summary>Label names keep to [a-zA-Z0-9_], never start with a digit, and never start with the reserved "__".</summary>
    public static string SanitizeLabelName(string name)
    {
        // Collapsing runs of '_' also turns a leading "__" (reserved for Prometheus internals) into a single '_'.
        var sanitized = Sanitize(name);
        return char.IsAsciiDigit(sanitized[0]) ? "key_" + sanitized : sanitized;
    }

    private static string Word(string unit, Dictionary<string, string> words) =>
        words.TryGetValue(unit, out var word) ? word : unit;

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string CollapseAndTrim(string value)
    {
        var sanitized = Sanitize(value).Trim('_');
        return sanitized;
    }

    private static string Sanitize(string name)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            var legal = char.IsAsciiLetterOrDigit(c) || c == '_';
            var next = legal ? c : '_';
            // OpenTelemetry's rule: runs of '_' collapse, so "a..b" and "a._b" both become "a_b".
            if (next == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(next);
        }

        return builder.ToString();
    }
}
