using System.Globalization;
using System.Net;

namespace Attribution.Domain.Fraud;

/// <summary>The fraud rules' thresholds and lists (Fraud:* and GET/PUT /api/v1/fraud/rules).</summary>
public sealed record FraudSettings(
    int ClicksPerIpPerMinute,
    IReadOnlyList<string> BotUserAgentPatterns,
    IReadOnlyList<IPNetwork> IpBlocklist,
    int MinClickToConversionSeconds,
    int ClicksPerUserPerMinute,
    double AnomalyThreshold)
{
    public static readonly IReadOnlyList<string> DefaultBotPatterns =
        ["bot", "crawler", "spider", "headless", "curl", "wget", "python-requests", "scrapy", "phantomjs"];

    public static FraudSettings Default { get; } = new(100, DefaultBotPatterns, [], 10, 20, 4.0);

    public TimeSpan MinClickToConversion => TimeSpan.FromSeconds(MinClickToConversionSeconds);

    /// <summary>Why these settings cannot be used, or null.</summary>
    public static string? Check(int? clicksPerIpPerMinute, IReadOnlyList<string?>? patterns, int? minClickToConversionSeconds, int? clicksPerUserPerMinute,
        double? anomalyThreshold = null)
    {
        if (anomalyThreshold is { } z && (!double.IsFinite(z) || z <= 0 || z > 100)) return "anomaly_threshold must be in (0, 100]";
        if (clicksPerIpPerMinute is < 1 or > 1_000_000) return "clicks_per_ip_per_minute must be in [1, 1000000]";
        if (clicksPerUserPerMinute is < 1 or > 1_000_000) return "clicks_per_user_per_minute must be in [1, 1000000]";
        if (minClickToConversionSeconds is < 0 or > 86_400) return "min_click_to_conversion_seconds must be in [0, 86400]";
        if (patterns is null) return null;
        if (patterns.Count > 200) return "bot_user_agent_patterns holds at most 200 patterns";
        for (var i = 0; i < patterns.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(patterns[i])) return string.Create(CultureInfo.InvariantCulture, $"bot_user_agent_patterns[{i}] is empty");
            if (patterns[i]!.Length > 200) return string.Create(CultureInfo.InvariantCulture, $"bot_user_agent_patterns[{i}] is longer than 200 characters");
            if (patterns[i]!.Contains('\0', StringComparison.Ordinal)) return string.Create(CultureInfo.InvariantCulture, $"bot_user_agent_patterns[{i}] contains a NUL character");
        }

        return null;
    }

    /// <summary>Parses a blocklist of CIDR ranges ("203.0.113.0/24", "2001:db8::/32"; a bare address is its /32 or /128).</summary>
    public static bool TryParseBlocklist(IReadOnlyList<string?> cidrs, out List<IPNetwork> networks, out string? error)
    {
        ArgumentNullException.ThrowIfNull(cidrs);
        networks = [];
        error = null;
        if (cidrs.Count > 10_000)
        {
            error = "cidrs holds at most 10000 ranges";
            return false;
        }

        for (var i = 0; i < cidrs.Count; i++)
        {
            var text = cidrs[i]?.Trim();
            if (text is not null && !text.Contains('/', StringComparison.Ordinal) && IPAddress.TryParse(text, out var single))
                text = $"{text}/{(single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}";
            // A range with bits set past its prefix ("10.0.0.1/8") is a typo, not a range to guess at: IPNetwork would
            // quietly mask it to 10.0.0.0/8.
            if (text is null || !IPNetwork.TryParse(text, out var network)
                || !IPAddress.TryParse(text.AsSpan(0, text.IndexOf('/', StringComparison.Ordinal)), out var written) || !written.Equals(network.BaseAddress))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"cidrs[{i}] '{cidrs[i]}' is not a CIDR range such as 203.0.113.0/24 or 2001:db8::/32");
                return false;
            }

            networks.Add(network);
        }

        return true;
    }
}
