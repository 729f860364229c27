namespace Attribution.Domain.Fraud;

public static class GeoMismatch
{
    // Design 004 (fraud: geo anomalies): a click whose geo_country is present and differs from its impression's.
    // Country codes compare case-insensitively; an impression without a country has nothing to differ from.
    public static bool Flags(string? clickCountry, string? impressionCountry) =>
        !string.IsNullOrEmpty(clickCountry) && !string.IsNullOrEmpty(impressionCountry)
        && !string.Equals(clickCountry, impressionCountry, StringComparison.OrdinalIgnoreCase);
}
