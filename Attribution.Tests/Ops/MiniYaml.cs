using System.Text;

namespace Attribution.Tests.Ops;

/// <summary>
/// The YAML subset the files in docker/ are written in, since no YAML package can be restored here: block mappings
/// and sequences by indentation, plain, single- and double-quoted scalars, one-line flow sequences, comments.
/// Anything outside that subset (anchors, flow mappings, block scalars, tabs) is an error rather than a guess, so a
/// file that drifts out of the subset fails its test instead of being half read.
/// Mappings become <see cref="Dictionary{TKey,TValue}"/>, sequences <see cref="List{T}"/>, scalars strings; an
/// empty value is null.
/// </summary>
public static class MiniYaml
{
    private sealed record Line(int Number, int Indent, string Text);

    public static object? Parse(string text)
    {
        var lines = new List<Line>();
        var number = 0;
        foreach (var raw in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
        {
            number++;
            if (raw.Contains('\t', StringComparison.Ordinal)) throw Error(number, "tab characters are not allowed");
            var content = StripComment(raw, number).TrimEnd();
            if (content.Trim().Length == 0 || content.Trim() == "---") continue;
            var indent = content.Length - content.TrimStart().Length;
            lines.Add(new Line(number, indent, content.Trim()));
        }

        if (lines.Count == 0) return null;
        var i = 0;
        var root = ParseBlock(lines, ref i, lines[0].Indent);
        if (i < lines.Count) throw Error(lines[i].Number, "unexpected indentation");
        return root;
    }

    public static Dictionary<string, object?> Map(object? node, string what) =>
        node as Dictionary<string, object?> ?? throw new FormatException($"{what} must be a mapping");

    public static List<object?> Seq(object? node, string what) =>
        node as List<object?> ?? throw new FormatException($"{what} must be a sequence");

    private static object? ParseBlock(List<Line> lines, ref int i, int indent) =>
        IsSequenceItem(lines[i].Text) ? ParseSequence(lines, ref i, indent) : ParseMapping(lines, ref i, indent);

    private static bool IsSequenceItem(string text) => text == "-" || text.StartsWith("- ", StringComparison.Ordinal);

    private static Dictionary<string, object?> ParseMapping(List<Line> lines, ref int i, int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (i < lines.Count && lines[i].Indent == indent && !IsSequenceItem(lines[i].Text))
        {
            var line = lines[i];
            var (key, rest) = SplitKey(line);
            if (map.ContainsKey(key)) throw Error(line.Number, $"duplicate key '{key}'");
            i++;
            object? value;
            if (rest.Length > 0) value = Scalar(rest, line.Number);
            else if (i < lines.Count && lines[i].Indent > indent) value = ParseBlock(lines, ref i, lines[i].Indent);
            // A sequence may sit at its key's own indentation.
            else if (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Text)) value = ParseSequence(lines, ref i, indent);
            else value = null;
            map[key] = value;
        }

        if (i < lines.Count && lines[i].Indent > indent) throw Error(lines[i].Number, "unexpected indentation");
        return map;
    }

    private static List<object?> ParseSequence(List<Line> lines, ref int i, int indent)
    {
        var list = new List<object?>();
        while (i < lines.Count && lines[i].Indent == indent && IsSequenceItem(lines[i].Text))
        {
            var line = lines[i];
            var rest = line.Text[1..].TrimStart();
            if (rest.Length == 0)
            {
                i++;
                if (i >= lines.Count || lines[i].Indent <= indent) list.Add(null);
                else list.Add(ParseBlock(lines, ref i, lines[i].Indent));
            }
            else if (IsSequenceItem(rest) || LooksLikeKey(rest))
            {
                // "- key: value": the item is a block whose first line starts where the key does.
                lines[i] = new Line(line.Number, indent + (line.Text.Length - rest.Length), rest);
                list.Add(ParseBlock(lines, ref i, lines[i].Indent));
            }
            else
            {
                list.Add(Scalar(rest, line.Number));
                i++;
            }
        }

        return list;
    }

    private static bool LooksLikeKey(string text)
    {
        if (text[0] is '"' or '\'' or '[' or '{') return false;
        var colon = KeyColon(text);
        return colon > 0;
    }

    // A key ends at the first ": " (or a ':' ending the line) outside quotes.
    private static int KeyColon(string text)
    {
        for (var k = 0; k < text.Length; k++)
        {
            if (text[k] == ':' && (k + 1 == text.Length || text[k + 1] == ' ')) return k;
        }

        return -1;
    }

    private static (string Key, string Value) SplitKey(Line line)
    {
        var colon = KeyColon(line.Text);
        if (colon <= 0) throw Error(line.Number, $"expected 'key: value', got '{line.Text}'");
        var key = line.Text[..colon].Trim();
        if (key[0] is '"' or '\'') key = (string)Scalar(key, line.Number)!;
        return (key, line.Text[(colon + 1)..].Trim());
    }

    private static object? Scalar(string text, int line)
    {
        switch (text[0])
        {
            case '"':
                return DoubleQuoted(text, line);
            case '\'':
                if (text.Length < 2 || text[^1] != '\'') throw Error(line, "unterminated single-quoted scalar");
                return text[1..^1].Replace("''", "'", StringComparison.Ordinal);
            case '[':
                return Flow(text, line);
            case '{' or '&' or '*' or '|' or '>' or '!' or '%' or '@' or '`':
                throw Error(line, $"'{text[0]}' starts a construct outside the supported subset");
            default:
                return text;
        }
    }

    private static string DoubleQuoted(string text, int line)
    {
        var builder = new StringBuilder();
        for (var k = 1; k < text.Length; k++)
        {
            var c = text[k];
            if (c == '"')
            {
                if (k != text.Length - 1) throw Error(line, "text after a closing quote");
                return builder.ToString();
            }

            if (c == '\\')
            {
                if (++k >= text.Length) break;
                builder.Append(text[k] switch
                {
                    '"' => '"',
                    '\\' => '\\',
                    'n' => '\n',
                    't' => '\t',
                    '/' => '/',
                    var other => throw Error(line, $"unsupported escape '\\{other}'"),
                });
                continue;
            }

            builder.Append(c);
        }

        throw Error(line, "unterminated double-quoted scalar");
    }

    private static List<object?> Flow(string text, int line)
    {
        if (text[^1] != ']') throw Error(line, "a flow sequence must end on its line");
        var items = new List<object?>();
        var body = text[1..^1];
        var k = 0;
        while (k < body.Length)
        {
            while (k < body.Length && body[k] == ' ') k++;
            if (k >= body.Length) break;
            int end;
            if (body[k] is '"' or '\'')
            {
                var quote = body[k];
                end = k + 1;
                while (end < body.Length && (body[end] != quote || (quote == '"' && body[end - 1] == '\\'))) end++;
                items.Add(Scalar(body[k..(end + 1)], line));
                end++;
            }
            else
            {
                end = body.IndexOf(',', k);
                if (end < 0) end = body.Length;
                var item = body[k..end].Trim();
                if (item.Length > 0 && item[0] is '[' or '{') throw Error(line, "nested flow collections are outside the subset");
                items.Add(item);
            }

            while (end < body.Length && body[end] == ' ') end++;
            if (end < body.Length && body[end] != ',') throw Error(line, "expected ',' between flow items");
            k = end + 1;
        }

        return items;
    }

    private static string StripComment(string raw, int line)
    {
        char? quote = null;
        for (var k = 0; k < raw.Length; k++)
        {
            var c = raw[k];
            if (quote is not null)
            {
                if (c == quote && (quote == '\'' || raw[k - 1] != '\\')) quote = null;
                continue;
            }

            if (c is '"' or '\'' && (k == 0 || raw[k - 1] is ' ' or '[' or ',' or ':' or '-')) quote = c;
            else if (c == '#' && (k == 0 || raw[k - 1] == ' ')) return raw[..k];
        }

        if (quote is not null) throw Error(line, "unterminated quote");
        return raw;
    }

    private static FormatException Error(int line, string message) => new($"YAML line {line}: {message}");
}
