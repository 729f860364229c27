namespace Attribution.Domain.Fraud;

public static class ClickFlooding
{
    // Design 004 (fraud: click flooding): a click whose ip_address has more than ClicksPerIpPerMinute clicks with
    // event time in [t − 60 s, t], itself included. Clicks without an address are not judged.
    public static HashSet<string> Flags(IEnumerable<(string EventId, string? IpAddress, DateTime EventTime)> clicks, FraudSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return ClickBursts.OverLimit(
            clicks.Where(c => c.IpAddress is not null).Select(c => new KeyedClick(c.EventId, c.IpAddress!, c.EventTime)), settings.ClicksPerIpPerMinute);
    }
}
