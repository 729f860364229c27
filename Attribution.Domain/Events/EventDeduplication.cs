namespace Attribution.Domain.Events;

/// <summary>Splits a delivery of events into the ones seen for the first time and the repeats.</summary>
public static class EventDeduplication
{
    // Rule 1 (dedup): event_id is the idempotency key forever; the first delivery of an id wins and every later one
    // is a DUPLICATE_EVENT that changes nothing.
    public static (List<T> Fresh, List<T> Duplicates) Partition<T>(
        IEnumerable<T> arrivals, Func<T, string> eventId, Func<string, bool> alreadyStored)
    {
        var count = arrivals.TryGetNonEnumeratedCount(out var n) ? n : 0;
        var fresh = new List<T>(count);
        var duplicates = new List<T>();
        var seen = new HashSet<string>(count, StringComparer.Ordinal);
        foreach (var e in arrivals)
        {
            var id = eventId(e);
            if (alreadyStored(id) || !seen.Add(id)) duplicates.Add(e);
            else fresh.Add(e);
        }

        return (fresh, duplicates);
    }
}
