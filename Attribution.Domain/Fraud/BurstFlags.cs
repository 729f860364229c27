using Attribution.Domain.Events;

namespace Attribution.Domain.Fraud;

/// <summary>A click the burst rules count: judged (<see cref="FraudRules.IsJudged"/>) and keyed by an address, a user
/// or both.</summary>
public sealed record JudgedClick(string EventId, string ImpressionId, string? IpAddress, string? UserId, DateTime EventTime)
{
    public static JudgedClick? Of(AdEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e is AdClicked { ImpressionId: { } impression } && FraudRules.IsJudged(e) && (e.IpAddress is not null || e.UserId is not null)
            ? new JudgedClick(e.EventId, impression, e.IpAddress, e.UserId, e.EventTime)
            : null;
    }
}

/// <summary>Which key a burst window counts clicks of.</summary>
public enum BurstKey
{
    IpAddress,
    UserId,
}

/// <summary>A span of event time, inclusive at both ends, whose clicks of one key a decision needs.</summary>
public readonly record struct BurstWindow(BurstKey Kind, string Key, DateTime From, DateTime To);

/// <summary>
/// The two burst rules (<see cref="ClickFlooding"/>, <see cref="UserClickVelocity"/>) over a set of judged clicks that
/// spans many impressions: which windows of stored clicks decide a set of clicks, the flags, and which stored clicks a
/// batch's new clicks re-flag. Counts only grow as clicks arrive, so a new click can only turn a stored click flagged.
/// </summary>
public static class BurstFlags
{
    /// <summary>The burst rules' flags of the clicks in <paramref name="clicks"/>; exact for each click whose window
    /// [t − 60 s, t] the set holds in full.</summary>
    public static Dictionary<string, FraudRule[]> Of(IReadOnlyCollection<JudgedClick> clicks, FraudSettings settings)
    {
        ArgumentNullException.ThrowIfNull(clicks);
        ArgumentNullException.ThrowIfNull(settings);
        var flooding = ClickFlooding.Flags(clicks.Select(c => (c.EventId, c.IpAddress, c.EventTime)), settings);
        var velocity = UserClickVelocity.Flags(clicks.Select(c => (c.EventId, c.UserId, c.EventTime)), settings);
        var flags = new Dictionary<string, FraudRule[]>(StringComparer.Ordinal);
        foreach (var id in flooding) flags[id] = velocity.Contains(id) ? [FraudRule.ClickFlooding, FraudRule.UserClickVelocity] : [FraudRule.ClickFlooding];
        foreach (var id in velocity) flags.TryAdd(id, [FraudRule.UserClickVelocity]);
        return flags;
    }

    /// <summary>The windows that hold everything the flags of <paramref name="judged"/> depend on ([t − 60 s, t] each),
    /// and for each of <paramref name="added"/> also the clicks whose window it falls into (up to t + 60 s): one window
    /// per key, from the earliest need to the latest.</summary>
    public static List<BurstWindow> Windows(IEnumerable<JudgedClick> judged, IEnumerable<JudgedClick> added)
    {
        ArgumentNullException.ThrowIfNull(judged);
        ArgumentNullException.ThrowIfNull(added);
        var spans = new Dictionary<(BurstKey, string), (DateTime From, DateTime To)>();
        void Need(BurstKey kind, string? key, DateTime from, DateTime to)
        {
            if (key is null) return;
            spans[(kind, key)] = spans.TryGetValue((kind, key), out var s) ? (Min(s.From, from), Max(s.To, to)) : (from, to);
        }

        foreach (var c in judged)
        {
            Need(BurstKey.IpAddress, c.IpAddress, c.EventTime - ClickBursts.Window, c.EventTime);
            Need(BurstKey.UserId, c.UserId, c.EventTime - ClickBursts.Window, c.EventTime);
        }

        foreach (var c in added)
        {
            Need(BurstKey.IpAddress, c.IpAddress, c.EventTime - ClickBursts.Window, c.EventTime + ClickBursts.Window);
            Need(BurstKey.UserId, c.UserId, c.EventTime - ClickBursts.Window, c.EventTime + ClickBursts.Window);
        }

        return [.. spans.Select(s => new BurstWindow(s.Key.Item1, s.Key.Item2, s.Value.From, s.Value.To))
            .OrderBy(w => w.Kind).ThenBy(w => w.Key, StringComparer.Ordinal)];
    }

    /// <summary>The clicks of <paramref name="loaded"/> other than <paramref name="added"/> whose flags the added clicks
    /// change. <paramref name="loaded"/> must hold the windows <see cref="Windows"/> names for the added clicks.</summary>
    public static List<JudgedClick> Reflagged(IReadOnlyCollection<JudgedClick> loaded, IReadOnlySet<string> added, FraudSettings settings)
    {
        ArgumentNullException.ThrowIfNull(loaded);
        ArgumentNullException.ThrowIfNull(added);
        if (added.Count == 0) return [];
        var after = Of(loaded, settings);
        if (after.Count == 0) return [];
        var before = Of([.. loaded.Where(c => !added.Contains(c.EventId))], settings);
        return [.. loaded.Where(c => !added.Contains(c.EventId) && after.TryGetValue(c.EventId, out var now)
            && !(before.TryGetValue(c.EventId, out var was) && was.SequenceEqual(now)))];
    }

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;
}
