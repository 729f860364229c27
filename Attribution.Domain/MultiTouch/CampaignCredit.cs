namespace Attribution.Domain.MultiTouch;

/// <summary>What one campaign is credited with for one conversion.</summary>
/// <param name="Share">In (0, 1]; the shares of a conversion sum to exactly 1.</param>
/// <param name="Revenue">The share of the conversion's revenue; a conversion's credits sum to exactly its revenue.</param>
public sealed record CampaignCredit(string CampaignId, decimal Share, decimal Revenue);

/// <summary>One conversion's credit under one model; campaigns with no credit are left out, the rest ordered by id.</summary>
public sealed record ConversionCredit(
    string ConversionId,
    string UserId,
    string Model,
    decimal Revenue,
    IReadOnlyList<Touchpoint> Touchpoints,
    IReadOnlyList<CampaignCredit> Credits);
