using System.Globalization;
using System.Text;
using Attribution.Domain.Attribution;
using Attribution.Projections.Replays;

namespace Attribution.Api.Cli;

/// <summary>The `whatif` verb's report: per campaign live → what-if (delta), then the first changed impressions explained.</summary>
public static class WhatIfSummary
{
    /// <summary>How many explained impressions the terminal gets; the diff endpoint has all it keeps.</summary>
    private const int Shown = 10;

    public static string Write(ReplayRecord replay, ReplayDiff diff, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(replay);
        ArgumentNullException.ThrowIfNull(diff);
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        Line($"whatif {replay.Id}: replayed {replay.Done:N0} impressions in {elapsed.TotalSeconds:N1} s under a {Durations.Format(replay.Rules.Lookback)} lookback, late after {Durations.Format(replay.Rules.LateThreshold)} (live: {Durations.Format(replay.LiveRules.Lookback)}, {Durations.Format(replay.LiveRules.LateThreshold)})");
        Line($"{"campaign",-24} {"conversions",-22} {"revenue",-34} {"revenue out of window",-34} roas");
        foreach (var c in diff.Campaigns)
        {
            Line($"{c.CampaignId ?? "(none)",-24} {Change(c.Live.Conversions, c.WhatIf.Conversions, c.Delta.Conversions),-22} {Change(Money(c.Live.Revenue), Money(c.WhatIf.Revenue), Money(c.Delta.Revenue)),-34} {Change(Money(c.Live.RevenueOutOfWindow), Money(c.WhatIf.RevenueOutOfWindow), Money(c.Delta.RevenueOutOfWindow)),-34} {Change(Roas(c.Live.Roas), Roas(c.WhatIf.Roas), Roas(c.Delta.Roas))}");
        }

        Line($"changed impressions: {diff.ChangedImpressionsTotal:N0}");
        foreach (var i in diff.ChangedImpressions.Take(Shown))
        {
            foreach (var e in i.Events)
                Line($"  {i.ImpressionId} {e.EventType} {e.EventId}: {Verdict(e.Live)} → {Verdict(e.WhatIf)}");
        }

        Line($"shadow Gold: schema {replay.Schema}; GET /api/v1/replays/{replay.Id}/diff for the rest, DELETE /api/v1/replays/{replay.Id} drops it");
        return text.ToString();
    }

    private static string Change<T>(T live, T whatIf, T delta) => string.Create(CultureInfo.InvariantCulture, $"{live} → {whatIf} ({delta})");

    // Money as the API writes it: without numeric(18,6)'s trailing zeros.
    private static string Money(decimal value) => (value / 1.000000000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);

    private static string Roas(double? roas) => roas?.ToString("0.####", CultureInfo.InvariantCulture) ?? "-";

    private static string Verdict(EventVerdict v) => v.Summary ?? v.Outcome + (v.Late ? " (late)" : "");
}
