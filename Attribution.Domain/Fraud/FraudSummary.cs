namespace Attribution.Domain.Fraud;

/// <summary>What one rule flagged in one campaign. An event flagged by two rules counts under each.</summary>
public sealed record FraudSummaryLine(
    string? CampaignId, FraudRule Rule, long Impressions, long Clicks, long Conversions, decimal SpendExcluded, decimal RevenueExcluded);

/// <summary>The fraud summary (issue 22): flagged events counted per campaign and rule, with the spend and revenue
/// their flags exclude. The stored summary and a backtest's both come from here.</summary>
public sealed class FraudSummary
{
    private readonly Dictionary<(string Campaign, FraudRule Rule), FraudSummaryLine> _lines = [];

    public void Add(FlaggedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        foreach (var rule in e.Rules.Distinct())
        {
            var key = (e.CampaignId ?? "", rule);
            var line = _lines.GetValueOrDefault(key) ?? new FraudSummaryLine(e.CampaignId, rule, 0, 0, 0, 0m, 0m);
            _lines[key] = line with
            {
                Impressions = line.Impressions + (e.Type == Events.AdEventType.Impression ? 1 : 0),
                Clicks = line.Clicks + (e.Type == Events.AdEventType.Click ? 1 : 0),
                Conversions = line.Conversions + (e.Type == Events.AdEventType.Conversion ? 1 : 0),
                SpendExcluded = line.SpendExcluded + e.SpendExcluded,
                RevenueExcluded = line.RevenueExcluded + e.RevenueExcluded,
            };
        }
    }

    /// <summary>By campaign, then rule.</summary>
    public IReadOnlyList<FraudSummaryLine> Lines =>
        [.. _lines.OrderBy(l => l.Key.Campaign, StringComparer.Ordinal).ThenBy(l => l.Key.Rule).Select(l => l.Value)];

    /// <summary>Line by line, <paramref name="proposed"/> minus <paramref name="current"/> (a backtest's difference):
    /// every campaign and rule either has, lines equal in both left out.</summary>
    public static IReadOnlyList<FraudSummaryLine> Difference(FraudSummary proposed, FraudSummary current)
    {
        ArgumentNullException.ThrowIfNull(proposed);
        ArgumentNullException.ThrowIfNull(current);
        var keys = proposed._lines.Keys.Union(current._lines.Keys);
        var lines = new List<FraudSummaryLine>();
        foreach (var key in keys.OrderBy(k => k.Campaign, StringComparer.Ordinal).ThenBy(k => k.Rule))
        {
            var p = proposed._lines.GetValueOrDefault(key);
            var c = current._lines.GetValueOrDefault(key);
            var d = new FraudSummaryLine(p?.CampaignId ?? c?.CampaignId, key.Rule,
                (p?.Impressions ?? 0) - (c?.Impressions ?? 0), (p?.Clicks ?? 0) - (c?.Clicks ?? 0), (p?.Conversions ?? 0) - (c?.Conversions ?? 0),
                (p?.SpendExcluded ?? 0m) - (c?.SpendExcluded ?? 0m), (p?.RevenueExcluded ?? 0m) - (c?.RevenueExcluded ?? 0m));
            if (d is not { Impressions: 0, Clicks: 0, Conversions: 0, SpendExcluded: 0m, RevenueExcluded: 0m }) lines.Add(d);
        }

        return lines;
    }
}
