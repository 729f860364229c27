using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Attribution.Tests.Observability;

/// <summary>A format violation, with the 1-based line it was found on (0 for whole-document checks).</summary>
public sealed class PrometheusFormatException(int line, string message)
    : Exception(line > 0 ? $"line {line}: {message}" : message)
{
    public int Line { get; } = line;
}

public sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value, int Line)
{
    public string LabelsWithout(string name) =>
        string.Join(",", Labels.Where(l => l.Key != name).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
}

public sealed class PromFamily(string name)
{
    public string Name { get; } = name;
    public string Type { get; set; } = "untyped";
    public string? Help { get; set; }
    public bool TypeDeclared { get; set; }
    public List<PromSample> Samples { get; } = [];
}

public sealed class PromExposition(IReadOnlyDictionary<string, PromFamily> families)
{
    public IReadOnlyDictionary<string, PromFamily> Families { get; } = families;

    public IEnumerable<PromSample> AllSamples => Families.Values.SelectMany(f => f.Samples);

    /// <summary>The value of the one sample with this name and exactly these labels; fails when there is none.</summary>
    public double Value(string name, params (string Name, string Value)[] labels)
    {
        var match = AllSamples.Where(s => s.Name == name && SameLabels(s.Labels, labels)).ToList();
        return match.Count == 1
            ? match[0].Value
            : throw new InvalidOperationException($"expected one sample {name}{{{string.Join(",", labels)}}}, found {match.Count}");
    }

    public bool Has(string name, params (string Name, string Value)[] labels) =>
        AllSamples.Any(s => s.Name == name && SameLabels(s.Labels, labels));

    private static bool SameLabels(IReadOnlyDictionary<string, string> actual, (string Name, string Value)[] expected) =>
        actual.Count == expected.Length && expected.All(e => actual.TryGetValue(e.Name, out var v) && v == e.Value);
}

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4, stricter than Prometheus itself where the
/// exporter should be: exactly one space between tokens, no blank lines, no escapes other than the ones the format
/// defines. It checks every line, metadata order and grouping, duplicate series and histogram consistency, and
/// returns the unescaped samples.
/// </summary>
public static partial class PrometheusTextParser
{
    private static readonly HashSet<string> Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")]
    private static partial Regex FloatNumber();

    [GeneratedRegex(@"^-?\d+$")]
    private static partial Regex Timestamp();

    public static PromExposition Parse(string text)
    {
        if (text.Length > 0 && text[^1] != '\n')
        {
            throw new PrometheusFormatException(0, "the last line must end with a line feed");
        }

        var families = new Dictionary<string, PromFamily>(StringComparer.Ordinal);
        var closed = new HashSet<string>(StringComparer.Ordinal);
        var series = new HashSet<string>(StringComparer.Ordinal);
        string? current = null;

        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length - 1; i++)
        {
            var number = i + 1;
            var line = lines[i];
            if (line.Length == 0)
            {
                throw new PrometheusFormatException(number, "blank line");
            }

            if (line.Contains('\r', StringComparison.Ordinal))
            {
                throw new PrometheusFormatException(number, "carriage return: lines end with a line feed only");
            }

            if (line[0] == '#')
            {
                var meta = ParseMetadata(line, number);
                if (meta is null)
                {
                    continue;
                }

                var (keyword, name, rest) = meta.Value;
                var family = Enter(name, number, families, closed, ref current);
                if (family.Samples.Count > 0)
                {
                    throw new PrometheusFormatException(number, $"{keyword} for {name} after its samples");
                }

                if (keyword == "HELP")
                {
                    if (family.Help is not null)
                    {
                        throw new PrometheusFormatException(number, $"second HELP for {name}");
                    }

                    family.Help = UnescapeHelp(rest, number);
                }
                else
                {
                    if (family.TypeDeclared)
                    {
                        throw new PrometheusFormatException(number, $"second TYPE for {name}");
                    }

                    if (!Types.Contains(rest))
                    {
                        throw new PrometheusFormatException(number, $"unknown type '{rest}'");
                    }

                    family.Type = rest;
                    family.TypeDeclared = true;
                }

                continue;
            }

            var sample = ParseSample(line, number);
            var familyName = FamilyOf(sample.Name, families);
            var owner = Enter(familyName, number, families, closed, ref current);
            CheckSampleAgainstType(owner, sample, number);

            var identity = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!series.Add(identity))
            {
                throw new PrometheusFormatException(number, $"duplicate series {identity}");
            }

            owner.Samples.Add(sample);
        }

        foreach (var family in families.Values.Where(f => f.Type is "histogram"))
        {
            CheckHistogram(family);
        }

        return new PromExposition(families);
    }

    public static string UnescapeLabelValue(string escaped) => Unescape(escaped, allowQuote: true, line: 0);

    // A family's lines form one group: once another family starts, the first may not come back.
    private static PromFamily Enter(string name, int line, Dictionary<string, PromFamily> families, HashSet<string> closed, ref string? current)
    {
        if (current != name)
        {
            if (closed.Contains(name))
            {
                throw new PrometheusFormatException(line, $"lines of {name} are not one group");
            }

            if (current is not null)
            {
                closed.Add(current);
            }

            current = name;
        }

        if (!families.TryGetValue(name, out var family))
        {
            family = new PromFamily(name);
            families[name] = family;
        }

        return family;
    }

    private static (string Keyword, string Name, string Text)? ParseMetadata(string line, int number)
    {
        string keyword;
        if (line.StartsWith("# HELP ", StringComparison.Ordinal))
        {
            keyword = "HELP";
        }
        else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
        {
            keyword = "TYPE";
        }
        else
        {
            return null;
        }

        var body = line[7..];
        var space = body.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? body : body[..space];
        if (!MetricName().IsMatch(name))
        {
            throw new PrometheusFormatException(number, $"bad metric name '{name}' in {keyword}");
        }

        if (space < 0)
        {
            if (keyword == "TYPE")
            {
                throw new PrometheusFormatException(number, "TYPE without a type");
            }

            return (keyword, name, "");
        }

        return (keyword, name, body[(space + 1)..]);
    }

    private static PromSample ParseSample(string line, int number)
    {
        var position = 0;
        while (position < line.Length && line[position] is not ('{' or ' '))
        {
            position++;
        }

        var name = line[..position];
        if (!MetricName().IsMatch(name))
        {
            throw new PrometheusFormatException(number, $"bad metric name '{name}'");
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (position < line.Length && line[position] == '{')
        {
            position = ParseLabels(line, position + 1, labels, number);
        }

        if (position >= line.Length || line[position] != ' ')
        {
            throw new PrometheusFormatException(number, "expected one space before the value");
        }

        var tokens = line[(position + 1)..].Split(' ');
        if (tokens.Length is < 1 or > 2 || tokens.Any(t => t.Length == 0))
        {
            throw new PrometheusFormatException(number, "expected 'value' or 'value timestamp' separated by one space");
        }

        var value = ParseValue(tokens[0], number);
        if (tokens.Length == 2 && !Timestamp().IsMatch(tokens[1]))
        {
            throw new PrometheusFormatException(number, $"bad timestamp '{tokens[1]}'");
        }

        return new PromSample(name, labels, value, number);
    }

    private static int ParseLabels(string line, int position, Dictionary<string, string> labels, int number)
    {
        while (true)
        {
            if (position >= line.Length)
            {
                throw new PrometheusFormatException(number, "unterminated label set");
            }

            if (line[position] == '}')
            {
                return position + 1;
            }

            var equals = line.IndexOf('=', position);
            if (equals < 0)
            {
                throw new PrometheusFormatException(number, "label without '='");
            }

            var labelName = line[position..equals];
            if (!LabelName().IsMatch(labelName))
            {
                throw new PrometheusFormatException(number, $"bad label name '{labelName}'");
            }

            if (labelName.StartsWith("__", StringComparison.Ordinal))
            {
                throw new PrometheusFormatException(number, $"label name '{labelName}' is reserved");
            }

            if (equals + 1 >= line.Length || line[equals + 1] != '"')
            {
                throw new PrometheusFormatException(number, $"value of label {labelName} is not quoted");
            }

            var start = equals + 2;
            var end = start;
            while (true)
            {
                if (end >= line.Length)
                {
                    throw new PrometheusFormatException(number, $"unterminated value of label {labelName}");
                }

                if (line[end] == '\\')
                {
                    end += 2;
                    continue;
                }

                if (line[end] == '"')
                {
                    break;
                }

                end++;
            }

            var value = Unescape(line[start..end], allowQuote: true, number);
            if (!labels.TryAdd(labelName, value))
            {
                throw new PrometheusFormatException(number, $"label {labelName} appears twice");
            }

            position = end + 1;
            if (position < line.Length && line[position] == ',')
            {
                position++;
            }
            else if (position >= line.Length || line[position] != '}')
            {
                throw new PrometheusFormatException(number, "expected ',' or '}' after a label");
            }
        }
    }

    private static double ParseValue(string token, int number) => token switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ when FloatNumber().IsMatch(token) => double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => throw new PrometheusFormatException(number, $"bad value '{token}'"),
    };

    private static string UnescapeHelp(string escaped, int number) => Unescape(escaped, allowQuote: false, number);

    private static string Unescape(string escaped, bool allowQuote, int line)
    {
        var builder = new StringBuilder(escaped.Length);
        for (var i = 0; i < escaped.Length; i++)
        {
            var c = escaped[i];
            if (c == '"' && allowQuote)
            {
                throw new PrometheusFormatException(line, "unescaped double quote in a label value");
            }

            if (c != '\\')
            {
                builder.Append(c);
                continue;
            }

            if (i + 1 >= escaped.Length)
            {
                throw new PrometheusFormatException(line, "dangling backslash");
            }

            var next = escaped[++i];
            builder.Append(next switch
            {
                '\\' => '\\',
                'n' => '\n',
                '"' when allowQuote => '"',
                _ => throw new PrometheusFormatException(line, $"invalid escape '\\{next}'"),
            });
        }

        return builder.ToString();
    }

    // A sample belongs to the family typed with its own name, else to a histogram or summary it is a part of.
    private static string FamilyOf(string sampleName, Dictionary<string, PromFamily> families)
    {
        if (families.TryGetValue(sampleName, out var exact) && exact.TypeDeclared)
        {
            return sampleName;
        }

        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (!sampleName.EndsWith(suffix, StringComparison.Ordinal))
            {
                continue;
            }

            var baseName = sampleName[..^suffix.Length];
            if (families.TryGetValue(baseName, out var family)
                && (family.Type == "histogram" || (family.Type == "summary" && suffix != "_bucket")))
            {
                return baseName;
            }
        }

        return sampleName;
    }

    private static void CheckSampleAgainstType(PromFamily family, PromSample sample, int number)
    {
        switch (family.Type)
        {
            case "counter":
                if (sample.Name != family.Name)
                {
                    throw new PrometheusFormatException(number, $"counter {family.Name} has a sample named {sample.Name}");
                }

                if (sample.Value < 0)
                {
                    throw new PrometheusFormatException(number, $"counter {family.Name} is negative");
                }

                break;
            case "gauge" or "untyped":
                if (sample.Name != family.Name)
                {
                    throw new PrometheusFormatException(number, $"{family.Type} {family.Name} has a sample named {sample.Name}");
                }

                break;
            case "histogram":
                if (sample.Name == family.Name + "_bucket")
                {
                    if (!sample.Labels.TryGetValue("le", out var le))
                    {
                        throw new PrometheusFormatException(number, "histogram bucket without le");
                    }

                    ParseValue(le, number);
                }
                else if (sample.Name != family.Name + "_sum" && sample.Name != family.Name + "_count")
                {
                    throw new PrometheusFormatException(number, $"histogram {family.Name} has a sample named {sample.Name}");
                }
                else if (sample.Labels.ContainsKey("le"))
                {
                    throw new PrometheusFormatException(number, $"{sample.Name} carries an le label");
                }

                break;
        }
    }

    private static void CheckHistogram(PromFamily family)
    {
        var bucketName = family.Name + "_bucket";
        foreach (var group in family.Samples.GroupBy(s => s.LabelsWithout("le")))
        {
            var buckets = group.Where(s => s.Name == bucketName).ToList();
            var sums = group.Where(s => s.Name == family.Name + "_sum").ToList();
            var counts = group.Where(s => s.Name == family.Name + "_count").ToList();
            var where = $"{family.Name}{{{group.Key}}}";
            if (buckets.Count == 0)
            {
                throw new PrometheusFormatException(group.First().Line, $"{where} has no buckets");
            }

            if (sums.Count != 1 || counts.Count != 1)
            {
                throw new PrometheusFormatException(buckets[0].Line, $"{where} needs exactly one _sum and one _count");
            }

            var previousBound = double.NegativeInfinity;
            var previousCount = 0d;
            foreach (var bucket in buckets)
            {
                var bound = ParseValue(bucket.Labels["le"], bucket.Line);
                if (!(bound > previousBound))
                {
                    throw new PrometheusFormatException(bucket.Line, $"{where} bucket bounds do not increase");
                }

                if (bucket.Value < previousCount)
                {
                    throw new PrometheusFormatException(bucket.Line, $"{where} bucket counts are not cumulative");
                }

                previousBound = bound;
                previousCount = bucket.Value;
            }

            if (!double.IsPositiveInfinity(previousBound))
            {
                throw new PrometheusFormatException(buckets[^1].Line, $"{where} does not end with the +Inf bucket");
            }

            if (counts[0].Value != previousCount)
            {
                throw new PrometheusFormatException(counts[0].Line, $"{where} _count {counts[0].Value} differs from the +Inf bucket {previousCount}");
            }
        }
    }
}
