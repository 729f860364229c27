namespace Attribution.Domain.Fraud;

public static class ClickToConversionTooFast
{
    // Design 004 (fraud: click injection): a conversion less than MinClickToConversionSeconds after the click it
    // would be credited to.
    public static bool Flags(DateTime conversionTime, DateTime creditedClickTime, FraudSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return conversionTime - creditedClickTime < settings.MinClickToConversion;
    }
}
