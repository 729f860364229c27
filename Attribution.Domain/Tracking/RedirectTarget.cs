using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Attribution.Domain.Tracking;

/// <summary>
/// Where a click may be sent: an absolute http(s) URL that passed <see cref="TryParse"/>, with its host in the ASCII
/// form that was checked. <see cref="Url"/> is what goes into the Location header, never the text it was read from.
/// </summary>
/// <param name="Scheme">"http" or "https".</param>
/// <param name="Host">Lowercase, IDN labels as punycode (<see cref="HostName"/>).</param>
/// <param name="Port">The explicit port, if the URL named one.</param>
/// <param name="Rest">Path, query and fragment exactly as given (ASCII only), possibly empty.</param>
public sealed record RedirectTarget(string Scheme, string Host, int? Port, string Rest)
{
    /// <summary>Longer redirects are refused; landing URLs with their tracking parameters stay far below.</summary>
    public const int MaxLength = 4096;

    public string Url => Port is { } port
        ? string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{Host}:{port}{Rest}")
        : $"{Scheme}://{Host}{Rest}";

    /// <summary>
    /// Issue 19 "only clean absolute http(s) URLs qualify": reads the raw text strictly instead of trusting a URL
    /// parser's normalization, which differs between parsers (and between us and browsers) exactly where the tricks
    /// live: "//evil", "https:evil", backslashes, userinfo ("good@evil"), control characters (CR/LF), percent-encoded
    /// or bracketed hosts, trailing dots, non-ASCII outside the host. Anything outside RFC 3986 is refused.
    /// </summary>
    public static bool TryParse(string? raw, [NotNullWhen(true)] out RedirectTarget? target, out string error)
    {
        target = null;
        if (string.IsNullOrEmpty(raw))
        {
            error = "it is missing";
            return false;
        }

        if (raw.Length > MaxLength)
        {
            error = $"it is longer than {MaxLength} characters";
            return false;
        }

        foreach (var c in raw)
        {
            // Browsers drop tabs and newlines inside URLs and read '\' as '/': either makes what we check differ from where they go.
            if (c <= ' ' || c is '\u007f' or (>= '\u0080' and <= '\u009f'))
            {
                error = $"it holds a control character or a space (U+{(int)c:X4})";
                return false;
            }

            if (c == '\\')
            {
                error = "it holds a backslash";
                return false;
            }
        }

        string scheme;
        if (raw.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) scheme = "https";
        else if (raw.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) scheme = "http";
        else
        {
            error = "it does not start with http:// or https://";
            return false;
        }

        var authorityStart = scheme.Length + 3;
        var authorityEnd = raw.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0) authorityEnd = raw.Length;
        var authority = raw[authorityStart..authorityEnd];
        var rest = raw[authorityEnd..];

        if (authority.Length == 0)
        {
            error = "it names no host";
            return false;
        }

        if (authority.Contains('@', StringComparison.Ordinal))
        {
            error = "it carries userinfo ('@' before the host)";
            return false;
        }

        if (authority.Contains('[', StringComparison.Ordinal) || authority.Contains(']', StringComparison.Ordinal))
        {
            error = "its host is an IP literal";
            return false;
        }

        if (authority.Contains('%', StringComparison.Ordinal))
        {
            error = "its host is percent-encoded";
            return false;
        }

        var host = authority;
        int? port = null;
        var colon = authority.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            host = authority[..colon];
            if (!TryPort(authority[(colon + 1)..], out var p, out error)) return false;
            port = p;
        }

        if (!HostName.TryToAscii(host, out var asciiHost, out var hostError))
        {
            error = hostError;
            return false;
        }

        if (!IsCleanRest(rest, out error)) return false;

        target = new RedirectTarget(scheme, asciiHost, port, rest);
        error = "";
        return true;
    }

    private static bool TryPort(string text, out int port, out string error)
    {
        port = 0;
        // Digits only, no sign, no leading zero: one spelling per port.
        if (text.Length is 0 or > 5 || !text.All(char.IsAsciiDigit) || text[0] == '0'
            || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            error = $"its port '{text}' is not a number from 1 to 65535";
            return false;
        }

        error = "";
        return true;
    }

    /// <summary>Path, query and fragment: RFC 3986 characters only (so ASCII), every '%' a %XX escape, one '#' at most.</summary>
    private static bool IsCleanRest(string rest, out string error)
    {
        var fragment = false;
        for (var i = 0; i < rest.Length; i++)
        {
            var c = rest[i];
            if (c == '#')
            {
                if (fragment)
                {
                    error = "it holds a second '#'";
                    return false;
                }

                fragment = true;
                continue;
            }

            if (c == '%')
            {
                if (i + 2 >= rest.Length || !char.IsAsciiHexDigit(rest[i + 1]) || !char.IsAsciiHexDigit(rest[i + 2]))
                {
                    error = "it holds a '%' that is not a %XX escape";
                    return false;
                }

                i += 2;
                continue;
            }

            if (!(char.IsAsciiLetterOrDigit(c) || "-._~!$&'()*+,;=:@/?".Contains(c, StringComparison.Ordinal)))
            {
                error = c > '\u007e'
                    ? $"its path or query holds the non-ASCII character U+{(int)c:X4} (percent-encode it)"
                    : $"its path or query holds '{c}' (percent-encode it)";
                return false;
            }
        }

        error = "";
        return true;
    }
}
