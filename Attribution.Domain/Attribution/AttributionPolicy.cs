namespace Attribution.Domain.Attribution;

/// <summary>The attribution settings in force when an impression is folded (design 000 §3.2.1).</summary>
public sealed record AttributionPolicy(TimeSpan Lookback, TimeSpan LateThreshold)
{
    /// <summary>7-day click lookback and a 1-hour business late threshold.</summary>
    public static AttributionPolicy Default { get; } = new(TimeSpan.FromDays(7), TimeSpan.FromHours(1));
}
