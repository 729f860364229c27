using Attribution.Domain.MultiTouch;

namespace Attribution.Tests.Domain.MultiTouch;

/// <summary>Builders for readable Given/When/Then tests.</summary>
internal static class MultiTouchScenarios
{
    public static readonly DateTimeOffset T = new(2025, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public static Touchpoint Click(string campaign, double daysBefore, string? impression = null) =>
        new(campaign, T - TimeSpan.FromDays(daysBefore), impression ?? $"imp-{campaign}-{daysBefore}");

    /// <summary>A conversion at T attributed (impression level) to the given click.</summary>
    public static Conversion ConversionAfter(Touchpoint attributed, decimal revenue = 100m, string id = "conv-1") =>
        new(id, "user-1", T, revenue, attributed.CampaignId, attributed.ClickTime, attributed.ImpressionId);

    public static decimal ShareOf(this ConversionCredit credit, string campaign) =>
        credit.Credits.SingleOrDefault(c => c.CampaignId == campaign)?.Share ?? 0m;

    public static decimal RevenueOf(this ConversionCredit credit, string campaign) =>
        credit.Credits.SingleOrDefault(c => c.CampaignId == campaign)?.Revenue ?? 0m;
}
