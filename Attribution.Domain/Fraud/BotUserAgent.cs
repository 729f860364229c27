namespace Attribution.Domain.Fraud;

public static class BotUserAgent
{
    // Design 004 (fraud: bots): a user_agent that is present and empty, or holds a bot pattern (case-insensitive).
    // An absent user_agent (a server-side event) is not judged.
    public static bool Flags(string? userAgent, IReadOnlyList<string> patterns)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        if (userAgent is null) return false;
        if (userAgent.Length == 0) return true;
        foreach (var p in patterns)
        {
            if (userAgent.Contains(p, StringComparison.OrdinalIgnoreCase)) return true;
        }

        return false;
    }
}
