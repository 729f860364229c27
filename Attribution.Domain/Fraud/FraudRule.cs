namespace Attribution.Domain.Fraud;

/// <summary>Design 004's fraud patterns, each a rule of its own file.</summary>
public enum FraudRule
{
    ClickFlooding,
    BotUserAgent,
    BlocklistedIp,
    GeoMismatch,
    ClickToConversionTooFast,
    UserClickVelocity,
}

public static class FraudRules
{
    public static string ToWire(this FraudRule rule) => rule switch
    {
        FraudRule.ClickFlooding => "CLICK_FLOODING",
        FraudRule.BotUserAgent => "BOT_USER_AGENT",
        FraudRule.BlocklistedIp => "BLOCKLISTED_IP",
        FraudRule.GeoMismatch => "GEO_MISMATCH",
        FraudRule.ClickToConversionTooFast => "CLICK_TO_CONVERSION_TOO_FAST",
        FraudRule.UserClickVelocity => "USER_CLICK_VELOCITY",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, null),
    };

    public static FraudRule? TryParse(string? wire) =>
        Enum.GetValues<FraudRule>().Cast<FraudRule?>().FirstOrDefault(r => string.Equals(r!.Value.ToWire(), wire, StringComparison.OrdinalIgnoreCase));
}
