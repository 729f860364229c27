using Attribution.Domain.Events;

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
    // Issue 22: an event that carries neither ip_address nor user_agent (a server-side one) is judged by no fraud rule,
    // exactly as before the rules existed; a conversion is judged by the click it would be credited to.
    public static bool IsJudged(AdEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.IpAddress is not null || e.UserAgent is not null;
    }

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
