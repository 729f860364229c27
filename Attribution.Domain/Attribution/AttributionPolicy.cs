namespace Attribution.Domain.Attribution;

/// <summary>The attribution settings in force when an impression is folded (design 000 §3.2.1), and the fraud rules
/// it is judged by (design 004).</summary>
public sealed record AttributionPolicy(TimeSpan Lookback, TimeSpan LateThreshold)
{
    public Fraud.FraudSettings Fraud { get; init; } = Domain.Fraud.FraudSettings.Default;

    public const double MaxLookbackDays = 366;
    public const double MaxLateThresholdMinutes = 525_600;

    /// <summary>7-day click lookback and a 1-hour business late threshold.</summary>
    public static AttributionPolicy Default { get; } = new(TimeSpan.FromDays(7), TimeSpan.FromHours(1));

    /// <summary>Why these settings cannot be a policy, or null when they can (an absent one keeps its current value):
    /// a lookback of up to a year (a zero lookback would credit nothing), a late threshold of zero up to a year.</summary>
    public static string? Check(double? lookbackDays, double? lateThresholdMinutes)
    {
        if (lookbackDays is <= 0 or > MaxLookbackDays || lookbackDays is double.NaN)
            return $"lookback_days must be in (0, {MaxLookbackDays}], got {lookbackDays}";
        if (lateThresholdMinutes is < 0 or > MaxLateThresholdMinutes || lateThresholdMinutes is double.NaN)
            return $"late_threshold_minutes must be in [0, {MaxLateThresholdMinutes}], got {lateThresholdMinutes}";
        return null;
    }

    /// <summary>This policy with the settings given replaced (after <see cref="Check"/>).</summary>
    public AttributionPolicy With(double? lookbackDays, double? lateThresholdMinutes) => this with
    {
        Lookback = lookbackDays is { } days ? TimeSpan.FromDays(days) : Lookback,
        LateThreshold = lateThresholdMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : LateThreshold,
    };
}
