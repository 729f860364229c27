using System.Diagnostics.CodeAnalysis;

namespace Attribution.Domain.Tracking;

/// <summary>
/// A campaign's landing domains: the hosts its clicks may be redirected to without a signature. Entries are hosts
/// ("shop.example") or wildcards ("*.example.com"), kept in their compared form (lowercase, punycode), sorted and
/// distinct, so two lists that allow the same hosts are equal.
/// </summary>
public sealed class LandingDomains : IEquatable<LandingDomains>
{
    /// <summary>More would be a list of everything; a campaign lands on a few sites.</summary>
    public const int MaxEntries = 100;

    private const string WildcardPrefix = "*.";

    private readonly string[] _entries;
    private readonly HashSet<string> _hosts;
    private readonly string[] _suffixes;

    private LandingDomains(string[] entries)
    {
        _entries = entries;
        _hosts = entries.Where(e => !e.StartsWith(WildcardPrefix, StringComparison.Ordinal)).ToHashSet(StringComparer.Ordinal);
        // "*.example.com" → ".example.com": a subdomain ends with it, example.com itself does not.
        _suffixes = entries.Where(e => e.StartsWith(WildcardPrefix, StringComparison.Ordinal)).Select(e => e[1..]).ToArray();
    }

    public static LandingDomains Empty { get; } = new([]);

    public IReadOnlyList<string> Entries => _entries;

    public bool IsEmpty => _entries.Length == 0;

    /// <summary>
    /// Issue 19 "landing domains": a host is allowed when it is exactly a listed host, or, for "*.x", ends with ".x".
    /// "*.x" matches subdomains at any depth but not x itself (as a wildcard certificate or a CSP source does): list
    /// both to allow both. <paramref name="asciiHost"/> is a host as <see cref="HostName.TryToAscii"/> gives it.
    /// </summary>
    public bool Allows(string asciiHost)
    {
        ArgumentNullException.ThrowIfNull(asciiHost);
        if (_hosts.Contains(asciiHost)) return true;
        foreach (var suffix in _suffixes)
        {
            if (asciiHost.Length > suffix.Length && asciiHost.EndsWith(suffix, StringComparison.Ordinal)) return true;
        }

        return false;
    }

    /// <summary>
    /// Reads a list as an API client sends it: hosts in any case, IDN in Unicode or punycode, "*." for subdomains. A
    /// wildcard needs at least two labels after "*." ("*.com" would allow a whole top-level domain).
    /// </summary>
    public static bool TryParse(IEnumerable<string?>? entries, [NotNullWhen(true)] out LandingDomains? domains, out string error)
    {
        domains = null;
        if (entries is null)
        {
            error = "landing_domains must be a list of hosts";
            return false;
        }

        var normalized = new SortedSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var entry in entries)
        {
            if (!TryEntry(entry, out var value, out var why))
            {
                error = $"landing_domains[{index}] {why}";
                return false;
            }

            normalized.Add(value);
            index++;
        }

        if (normalized.Count > MaxEntries)
        {
            error = $"landing_domains holds at most {MaxEntries} hosts, got {normalized.Count}";
            return false;
        }

        domains = normalized.Count == 0 ? Empty : new LandingDomains([.. normalized]);
        error = "";
        return true;
    }

    private static bool TryEntry(string? entry, out string value, out string error)
    {
        value = "";
        if (string.IsNullOrEmpty(entry))
        {
            error = "is empty";
            return false;
        }

        var wildcard = entry.StartsWith(WildcardPrefix, StringComparison.Ordinal);
        var host = wildcard ? entry[WildcardPrefix.Length..] : entry;
        if (host.Contains('*', StringComparison.Ordinal))
        {
            error = $"'{entry}': '*' may only stand alone as the first label (\"*.example.com\")";
            return false;
        }

        if (host.AsSpan().IndexOfAny(":/@?#\\") >= 0)
        {
            error = $"'{entry}' is not a host name: give the host alone, without scheme, port, path or userinfo";
            return false;
        }

        if (!HostName.TryToAscii(host, out var ascii, out var why))
        {
            error = $"'{entry}' is not a host name: {why}";
            return false;
        }

        if (wildcard && !ascii.Contains('.', StringComparison.Ordinal))
        {
            error = $"'{entry}': a wildcard needs at least two labels after \"*.\"";
            return false;
        }

        value = wildcard ? WildcardPrefix + ascii : ascii;
        error = "";
        return true;
    }

    public bool Equals(LandingDomains? other) => other is not null && _entries.AsSpan().SequenceEqual(other._entries);

    public override bool Equals(object? obj) => Equals(obj as LandingDomains);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var e in _entries) hash.Add(e, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    public override string ToString() => "[" + string.Join(", ", _entries) + "]";
}
