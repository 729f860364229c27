namespace Attribution.Domain.Attribution;

/// <summary>One impression's accumulated attribution state: the Gold fact row of design 000 §3.2.2, less the
/// write timestamp that the projection stamps.</summary>
public sealed record GoldState(
    string ImpressionId,
    string? CampaignId,
    string? CreativeId,
    string? UserId,
    string? GeoCountry,
    string? Platform,
    bool IsClicked,
    bool IsConverted,
    DateTime? ImpressionTime,
    DateTime? ClickTime,
    DateTime? ConversionTime,
    decimal Cost,
    decimal Revenue,
    bool Eligible,
    bool IsLate,
    long LateByMs,
    decimal RevenueOutOfWindow)
{
    /// <summary>Seconds from impression to the credited conversion, when both exist.</summary>
    public double? AttributionLagSeconds =>
        IsConverted && ImpressionTime is { } i && ConversionTime is { } c ? (c - i).TotalSeconds : null;
}
