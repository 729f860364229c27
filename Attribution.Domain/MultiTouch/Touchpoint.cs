namespace Attribution.Domain.MultiTouch;

/// <summary>One click of a user on a campaign's impression.</summary>
public sealed record Touchpoint(string CampaignId, DateTimeOffset ClickTime, string ImpressionId)
{
    /// <summary>
    /// Chronological order with deterministic ties: click time, then campaign id, then impression id (ordinal), so
    /// equal-time clicks always rank the same way whatever order they were read in.
    /// </summary>
    public static IComparer<Touchpoint> Chronological { get; } = Comparer<Touchpoint>.Create(static (a, b) =>
    {
        var byTime = a.ClickTime.UtcTicks.CompareTo(b.ClickTime.UtcTicks);
        if (byTime != 0)
        {
            return byTime;
        }

        var byCampaign = string.CompareOrdinal(a.CampaignId, b.CampaignId);
        return byCampaign != 0 ? byCampaign : string.CompareOrdinal(a.ImpressionId, b.ImpressionId);
    });
}

/// <summary>
/// A conversion as impression-level (last click) attribution left it: who converted, when, for how much, and the
/// click it was attributed to.
/// </summary>
/// <param name="Revenue">Money; negative for a refund, which is credited by the same shares.</param>
public sealed record Conversion(
    string ConversionId,
    string UserId,
    DateTimeOffset ConvertedAt,
    decimal Revenue,
    string AttributedCampaignId,
    DateTimeOffset AttributedClickTime,
    string AttributedImpressionId)
{
    public Touchpoint AttributedClick => new(AttributedCampaignId, AttributedClickTime, AttributedImpressionId);
}

/// <summary>Settings shared by every multi-touch model.</summary>
public sealed record MultiTouchOptions
{
    public static MultiTouchOptions Default { get; } = new();

    /// <summary>Clicks at most this long before the conversion are touchpoints (design 3.2.1: a 7-day click lookback).</summary>
    public TimeSpan Lookback { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Shares are exact decimals with this many places, and sum to exactly 1.</summary>
    public int ShareDecimals { get; init; } = 12;

    /// <summary>
    /// Credited revenue is split in units of 10^-MoneyDecimals (or finer, when the revenue itself has more places),
    /// so it sums to exactly the revenue. Six places ("micros", as ad platforms count money) keep every report that
    /// rounds to cents within a cent of the exact split.
    /// </summary>
    public int MoneyDecimals { get; init; } = 6;
}
