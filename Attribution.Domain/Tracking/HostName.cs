using System.Globalization;
using System.Text;

namespace Attribution.Domain.Tracking;

/// <summary>DNS host names as the click redirect compares them: lowercase, IDN labels in their ASCII (punycode) form.</summary>
public static class HostName
{
    public const int MaxLength = 253;
    private const int MaxLabelLength = 63;
    private const string AcePrefix = "xn--";

    private static readonly IdnMapping Idn = new();

    /// <summary>
    /// Issue 19 "host comparison after IDN to ASCII and lowercase": the host's one comparable spelling, or why it has
    /// none. Strict: letters, digits and hyphens per label (any script), no empty label (so no trailing dot), no IP
    /// address, no percent-encoding; an ASCII "xn--" label must be canonical punycode of such a label.
    /// </summary>
    /// <remarks>The build runs with invariant globalization, where IdnMapping is plain RFC 3492 punycode without
    /// UTS 46 mapping or normalization: this is why compatibility forms (fullwidth letters) are refused rather than
    /// mapped. The redirect always goes to the ASCII host checked here, never to the text it came from.</remarks>
    public static bool TryToAscii(string? host, out string ascii, out string error)
    {
        ascii = "";
        if (string.IsNullOrEmpty(host))
        {
            error = "the host is empty";
            return false;
        }

        if (host.Length > MaxLength * 4)
        {
            error = "the host is too long";
            return false;
        }

        var labels = host.ToLowerInvariant().Split('.');
        var result = new StringBuilder(host.Length);
        foreach (var label in labels)
        {
            if (label.Length == 0)
            {
                error = host.EndsWith('.') ? "the host ends with a dot" : "the host has an empty label";
                return false;
            }

            if (!TryLabelToAscii(label, out var asciiLabel, out error)) return false;
            if (result.Length > 0) result.Append('.');
            result.Append(asciiLabel);
        }

        // A last label that starts with a digit is how browsers spot an IPv4 address (also 0x7f.1 or 2130706433).
        if (char.IsAsciiDigit(labels[^1][0]))
        {
            error = "the host is an IP address; only DNS names qualify";
            return false;
        }

        if (result.Length > MaxLength)
        {
            error = $"the host is longer than {MaxLength} characters";
            return false;
        }

        ascii = result.ToString();
        error = "";
        return true;
    }

    private static bool TryLabelToAscii(string label, out string ascii, out string error)
    {
        ascii = "";
        var isAscii = Ascii.IsValid(label);
        if (isAscii)
        {
            if (!IsLdhLabel(label, out error)) return false;
            if (label.StartsWith(AcePrefix, StringComparison.Ordinal) && !IsCanonicalPunycode(label, out error)) return false;
            ascii = label;
            return true;
        }

        if (!IsUnicodeLabel(label, out error)) return false;
        try
        {
            ascii = Idn.GetAscii(label);
        }
        catch (ArgumentException e)
        {
            error = $"the host label '{label}' is not a valid internationalized name: {e.Message}";
            return false;
        }

        if (ascii.Length > MaxLabelLength)
        {
            error = $"the host label '{label}' is longer than {MaxLabelLength} characters in its ASCII form";
            return false;
        }

        return true;
    }

    private static bool IsLdhLabel(string label, out string error)
    {
        error = "";
        if (label.Length > MaxLabelLength)
            error = $"a host label is longer than {MaxLabelLength} characters";
        else if (label.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            error = $"the host label '{label}' holds a character other than a letter, a digit or '-'";
        else if (label[0] == '-' || label[^1] == '-')
            error = $"the host label '{label}' starts or ends with '-'";
        // RFC 5891 4.2.3.1: "--" in the third and fourth positions is reserved for encodings such as xn--.
        else if (label.Length >= 4 && label[2] == '-' && label[3] == '-' && !label.StartsWith(AcePrefix, StringComparison.Ordinal))
            error = $"the host label '{label}' has '--' in its third and fourth positions";
        return error.Length == 0;
    }

    private static bool IsCanonicalPunycode(string label, out string error)
    {
        error = "";
        string unicode;
        try
        {
            unicode = Idn.GetUnicode(label);
        }
        catch (ArgumentException)
        {
            error = $"the host label '{label}' is not valid punycode";
            return false;
        }

        // What the label decodes to must itself pass, and encode back to the very same label.
        if (!IsUnicodeLabel(unicode, out error)) return false;
        string again;
        try
        {
            again = Idn.GetAscii(unicode);
        }
        catch (ArgumentException)
        {
            again = "";
        }

        if (!string.Equals(again, label, StringComparison.Ordinal))
        {
            error = $"the host label '{label}' is not the canonical punycode of what it decodes to";
            return false;
        }

        return true;
    }

    /// <summary>A label of an internationalized name: lowercase letters of any script, combining marks, decimal
    /// digits and hyphens; nothing that a browser's UTS 46 mapping would turn into something else.</summary>
    private static bool IsUnicodeLabel(string label, out string error)
    {
        error = "";
        foreach (var rune in label.EnumerateRunes())
        {
            if (rune.IsAscii)
            {
                var c = (char)rune.Value;
                if (char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') continue;
                error = $"the host label '{label}' holds the character '{c}'";
                return false;
            }

            // Compatibility forms that browsers map to other letters (fullwidth and halfwidth forms, U+FF0E even to a
            // dot; letterlike and mathematical letters and digits) are refused: without UTS 46 tables we cannot map
            // them, and the redirect goes to the ASCII host checked here anyway, never to the text it came from.
            var category = Rune.GetUnicodeCategory(rune);
            var compatibility = rune.Value is (>= 0xFF00 and <= 0xFFEF) or (>= 0x2100 and <= 0x214F) or (>= 0x1D400 and <= 0x1D7FF);
            var allowed = !compatibility && category is UnicodeCategory.LowercaseLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.DecimalDigitNumber;
            if (!allowed)
            {
                error = $"the host label holds U+{rune.Value:X4}, which is not a lowercase letter, a mark or a digit";
                return false;
            }
        }

        if (label.Length == 0 || label[0] == '-' || label[^1] == '-')
        {
            error = "a host label is empty or starts or ends with '-'";
            return false;
        }

        return true;
    }
}
