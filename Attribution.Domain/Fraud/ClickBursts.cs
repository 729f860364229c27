namespace Attribution.Domain.Fraud;

/// <summary>A click as the burst rules see it: who sent it (an address or a user) and when.</summary>
public readonly record struct KeyedClick(string EventId, string Key, DateTime EventTime);

/// <summary>The counting both burst rules share: a click is over the limit when more than <c>limit</c> clicks of the
/// same key have event times in [t − window, t], itself included. A function of the set of clicks alone, so the
/// flags never depend on arrival order, and a late click re-flags the clicks its window reaches.</summary>
public static class ClickBursts
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(60);

    public static HashSet<string> OverLimit(IEnumerable<KeyedClick> clicks, int limit)
    {
        ArgumentNullException.ThrowIfNull(clicks);
        var flagged = new HashSet<string>(StringComparer.Ordinal);
        foreach (var group in clicks.DistinctBy(c => c.EventId).GroupBy(c => c.Key, StringComparer.Ordinal))
        {
            var times = group.OrderBy(c => c.EventTime).ThenBy(c => c.EventId, StringComparer.Ordinal).ToArray();
            if (times.Length <= limit) continue;
            var start = 0;
            var end = 0;
            for (var i = 0; i < times.Length; i++)
            {
                var t = times[i].EventTime;
                // [t − window, t]: clicks at exactly t that sort after this one are inside too.
                while (end < times.Length && times[end].EventTime <= t) end++;
                while (times[start].EventTime < t - Window) start++;
                if (end - start > limit) flagged.Add(times[i].EventId);
            }
        }

        return flagged;
    }
}
