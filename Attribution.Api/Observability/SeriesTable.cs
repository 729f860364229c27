using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Attribution.Api.Observability;

/// <summary>
/// The series of one instrument, found by the measurement's tags. A hit costs one lock-free dictionary read keyed
/// by a span built in a per-thread buffer, so the recording path takes no lock and allocates nothing once a series
/// exists.
/// </summary>
internal sealed class SeriesTable
{
    /// <summary>Label set of the series that takes measurements once the table is full.</summary>
    public const string OverflowLabels = "otel_metric_overflow=\"true\"";

    private readonly ConcurrentDictionary<string, MetricSeries> _byTagKey = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, MetricSeries>.AlternateLookup<ReadOnlySpan<char>> _byTagKeySpan;
    private readonly ConcurrentDictionary<string, MetricSeries> _byLabels = new(StringComparer.Ordinal);
    private readonly Func<string, MetricSeries> _create;
    private readonly KeyValuePair<string, object?>[] _constantTags;
    private readonly bool _reserveLe;
    private readonly int _maxSeries;
    private MetricSeries? _untagged;
    private MetricSeries? _overflow;

    public SeriesTable(
        Func<string, MetricSeries> create,
        IEnumerable<KeyValuePair<string, object?>>? constantTags,
        bool reserveLe,
        int maxSeries)
    {
        _create = create;
        _constantTags = constantTags?.ToArray() ?? [];
        _reserveLe = reserveLe;
        _maxSeries = maxSeries;
        _byTagKeySpan = _byTagKey.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IEnumerable<MetricSeries> All => _byLabels.Values;

    public MetricSeries Get(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return _untagged ??= _byLabels.GetOrAdd(RenderLabels(tags), _create);
        }

        var key = TagKey.Build(tags);
        if (_byTagKeySpan.TryGetValue(key, out var series))
        {
            return series;
        }

        return Add(tags, key);
    }

    private MetricSeries Add(ReadOnlySpan<KeyValuePair<string, object?>> tags, ReadOnlySpan<char> key)
    {
        // Design rule "bounded cardinality": past the cap, new label sets share one overflow series instead of
        // growing memory without end (e.g. a raw URL leaking into a tag).
        if (_byLabels.Count >= _maxSeries)
        {
            return _overflow ??= _byLabels.GetOrAdd(OverflowLabels, _create);
        }

        // Two different tag sets can render the same labels (5 and "5", "a.b" and "a_b"): keying the series by the
        // rendered labels keeps one series per exposed label set.
        var series = _byLabels.GetOrAdd(RenderLabels(tags), _create);
        _byTagKey.TryAdd(key.ToString(), series);
        return series;
    }

    private string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Measurement tags override an instrument's constant tag of the same key.
        var byKey = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in _constantTags)
        {
            byKey[tag.Key] = TagKey.FormatValue(tag.Value);
        }

        foreach (var tag in tags)
        {
            byKey[tag.Key] = TagKey.FormatValue(tag.Value);
        }

        // Keys that sanitise to the same label name share it, values joined by ';' in key order (OpenTelemetry's rule).
        var byLabel = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in byKey)
        {
            var name = PrometheusNaming.SanitizeLabelName(key);
            if (_reserveLe && name == "le")
            {
                // "le" carries the bucket bound on histogram samples, so a tag may not take it.
                name = "key_le";
            }

            byLabel[name] = byLabel.TryGetValue(name, out var existing) ? existing + ";" + value : value;
        }

        var builder = new StringBuilder();
        foreach (var (name, value) in byLabel)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(name).Append("=\"").Append(PrometheusText.EscapeLabelValue(value)).Append('"');
        }

        return builder.ToString();
    }
}

/// <summary>An unambiguous text key for a tag set, written into a per-thread buffer.</summary>
internal static class TagKey
{
    [ThreadStatic]
    private static char[]? t_key;

    [ThreadStatic]
    private static char[]? t_value;

    [ThreadStatic]
    private static int[]? t_order;

    /// <summary>
    /// Tags sorted by key, each written as "keyLength:key valueLength:value". The lengths make the key injective
    /// whatever characters keys and values contain. The span is only valid until the thread's next call.
    /// </summary>
    public static ReadOnlySpan<char> Build(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var order = SortedOrder(tags);
        var key = t_key ??= new char[256];
        var length = 0;
        for (var i = 0; i < tags.Length; i++)
        {
            var tag = tags[order[i]];
            var value = FormatValue(tag.Value, ref t_value);
            Append(ref key, ref length, tag.Key.AsSpan());
            Append(ref key, ref length, value);
        }

        t_key = key;
        return key.AsSpan(0, length);
    }

    /// <summary>The label text of a tag value: invariant culture, lowercase booleans, "" for null.</summary>
    public static string FormatValue(object? value) => value switch
    {
        null => "",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static ReadOnlySpan<char> FormatValue(object? value, ref char[]? scratch)
    {
        switch (value)
        {
            case null:
                return [];
            case string s:
                return s;
            case bool b:
                return b ? "true" : "false";
            case ISpanFormattable f:
                scratch ??= new char[64];
                while (true)
                {
                    if (f.TryFormat(scratch, out var written, default, CultureInfo.InvariantCulture))
                    {
                        return scratch.AsSpan(0, written);
                    }

                    scratch = new char[scratch.Length * 2];
                }

            default:
                return FormatValue(value);
        }
    }

    private static int[] SortedOrder(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var order = t_order is { } existing && existing.Length >= tags.Length ? existing : new int[Math.Max(8, tags.Length)];
        t_order = order;
        // Insertion sort: tag sets are a handful of entries, and it is stable, so a repeated key keeps its order.
        for (var i = 0; i < tags.Length; i++)
        {
            var j = i;
            while (j > 0 && string.CompareOrdinal(tags[order[j - 1]].Key, tags[i].Key) > 0)
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }

        return order;
    }

    private static void Append(ref char[] buffer, ref int length, ReadOnlySpan<char> text)
    {
        // Room for the text, up to 10 length digits and the ':' separator.
        var needed = length + text.Length + 11;
        if (needed > buffer.Length)
        {
            Array.Resize(ref buffer, Math.Max(needed, buffer.Length * 2));
        }

        text.Length.TryFormat(buffer.AsSpan(length), out var digits, default, CultureInfo.InvariantCulture);
        length += digits;
        buffer[length++] = ':';
        text.CopyTo(buffer.AsSpan(length));
        length += text.Length;
    }
}
