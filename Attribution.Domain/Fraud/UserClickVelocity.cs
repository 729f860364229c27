namespace Attribution.Domain.Fraud;

public static class UserClickVelocity
{
    // Design 004 (fraud: velocity per user): a click whose user_id has more than ClicksPerUserPerMinute clicks with
    // event time in [t − 60 s, t], itself included. Clicks without a user, and server-side ones (FraudRules.IsJudged),
    // are not judged: the caller passes the clicks that are.
    public static HashSet<string> Flags(IEnumerable<(string EventId, string? UserId, DateTime EventTime)> clicks, FraudSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return ClickBursts.OverLimit(
            clicks.Where(c => c.UserId is not null).Select(c => new KeyedClick(c.EventId, c.UserId!, c.EventTime)), settings.ClicksPerUserPerMinute);
    }
}
