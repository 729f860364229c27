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
    /// <summary>Valid clicks: a click a fraud rule flagged does not count (design 004).</summary>
    public int ClickCount { get; init; }

    /// <summary>Clicks a fraud rule flagged.</summary>
    public int InvalidClickCount { get; init; }

    /// <summary>The impression itself was flagged (bot or blocklisted): it is never billed and credits no conversion.</summary>
    public bool FraudSuspected { get; init; }

    /// <summary>Every rule that flagged one of the impression's events, by wire name, sorted and comma-separated ("" for
    /// none): text, so that two folds of the same events are equal states.</summary>
    public string FraudReasons { get; init; } = "";

    /// <summary>Seconds from impression to the credited conversion, when both exist.</summary>
    public double? AttributionLagSeconds =>
        IsConverted && ImpressionTime is { } i && ConversionTime is { } c ? (c - i).TotalSeconds : null;
}
