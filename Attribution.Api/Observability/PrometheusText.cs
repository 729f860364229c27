using System.Globalization;
using System.Text;

namespace Attribution.Api.Observability;

/// <summary>Escaping and number formatting of the Prometheus text exposition format 0.0.4.</summary>
internal static class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Label values escape backslash, double quote and line feed; nothing else may be escaped.</summary>
    public static string EscapeLabelValue(string value) => Escape(value, escapeQuote: true);

    /// <summary>HELP text escapes backslash and line feed only; a double quote stays as it is.</summary>
    public static string EscapeHelp(string help) => Escape(help, escapeQuote: false);

    /// <summary>Sample values and <c>le</c> bounds: Go-parseable floats, with the format's own spellings of the non-finite values.</summary>
    public static string FormatDouble(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }

        // "R" is the shortest text that parses back to the same double, so scraped values lose nothing.
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string Escape(string value, bool escapeQuote)
    {
        if (value.AsSpan().IndexOfAny('\\', '\n', '"') < 0)
        {
            return value;
        }

        var builder = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '"' when escapeQuote:
                    builder.Append("\\\"");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }
}
