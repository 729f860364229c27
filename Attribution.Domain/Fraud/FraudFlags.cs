using Attribution.Domain.Attribution;
using Attribution.Domain.Events;

namespace Attribution.Domain.Fraud;

/// <summary>Which rules flag each event of one impression: the per-event rules (bots, the blocklist), the click's country
/// against its impression's, and the burst rules' flags that only the clicks of other impressions can decide
/// (<paramref name="clickFlags"/> in <see cref="Of"/>). Click-to-conversion time is judged where the credited click is
/// known, in the attribution itself.</summary>
public static class FraudFlags
{
    /// <summary>The rules flagging each event, by position in <paramref name="ordered"/>; null when none flags any.</summary>
    public static FraudRule[]?[]? Of(AdEvent[] ordered, ImpressionServed? impression, FraudSettings settings,
        IReadOnlyDictionary<string, FraudRule[]>? clickFlags)
    {
        ArgumentNullException.ThrowIfNull(ordered);
        ArgumentNullException.ThrowIfNull(settings);
        FraudRule[]?[]? flags = null;
        List<FraudRule>? rules = null;
        for (var i = 0; i < ordered.Length; i++)
        {
            var e = ordered[i];
            if (!FraudRules.IsJudged(e)) continue;
            rules?.Clear();
            if (BotUserAgent.Flags(e.UserAgent, settings.BotUserAgentPatterns)) (rules ??= []).Add(FraudRule.BotUserAgent);
            if (BlocklistedIp.Flags(e.IpAddress, settings.IpBlocklist)) (rules ??= []).Add(FraudRule.BlocklistedIp);
            if (e is AdClicked)
            {
                if (GeoMismatch.Flags(e.GeoCountry, impression?.GeoCountry)) (rules ??= []).Add(FraudRule.GeoMismatch);
                if (clickFlags is not null && clickFlags.TryGetValue(e.EventId, out var burst)) (rules ??= []).AddRange(burst);
            }

            if (rules is not { Count: > 0 }) continue;
            flags ??= new FraudRule[]?[ordered.Length];
            flags[i] = [.. rules.Distinct().Order()];
        }

        return flags;
    }

    public static string Detail(IEnumerable<FraudRule> rules) => string.Join(", ", rules.Select(r => r.ToWire()));

    /// <summary>Every rule that flagged an event of the impression, sorted, comma-separated; "" for none.</summary>
    public static string Reasons(FraudRule[]?[]? flags, IEnumerable<EventOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var all = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var rules in flags ?? [])
        {
            foreach (var r in rules ?? []) all.Add(r.ToWire());
        }

        // Click-to-conversion time is decided in the attribution, not here: its outcomes say so.
        var tooFast = FraudRule.ClickToConversionTooFast.ToWire();
        if (outcomes.Any(o => o.Reason == AuditReason.FraudSuspected && o.Detail?.StartsWith(tooFast, StringComparison.Ordinal) == true)) all.Add(tooFast);
        return string.Join(",", all);
    }
}
