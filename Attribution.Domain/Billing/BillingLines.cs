using System.Security.Cryptography;
using System.Text;
using Attribution.Domain.Campaigns;

namespace Attribution.Domain.Billing;

/// <summary>What a billable unit is: an impression (billed under CPM) or a click (billed under CPC).</summary>
public enum BillingEventKind
{
    Impression,
    Click,
}

/// <summary>One stored impression or click as billing sees it.</summary>
/// <param name="CampaignId">The impression's campaign (a click bills for the campaign of its impression of record).</param>
/// <param name="BidPrice">The impression's bid price (0 when it had none); unused for clicks.</param>
/// <param name="Excluded">Whether the rules excluded it: fraud-flagged (itself or its impression), or a duplicate impression.</param>
/// <param name="Seq">Its position in the event store, the Bronze export's mark.</param>
public sealed record BillingEvent(string EventId, BillingEventKind Kind, string CampaignId, DateTimeOffset Time, decimal BidPrice, bool Excluded, long Seq)
{
    /// <summary>How a closed month's bill settled it: billed (true) or excluded (false) at <see cref="SettledPrice"/>;
    /// null when no closed bill carried it.</summary>
    public bool? SettledAsBilled { get; init; }

    public decimal? SettledPrice { get; init; }
}

/// <summary>An event as a bill settled it: billed or excluded, at its price then.</summary>
public sealed record SettledEvent(string EventId, bool Billed, decimal Price);

/// <summary>Ties a line to the events it bills: how many, a hash of their sorted ids, and the Bronze snapshot holding them.</summary>
/// <param name="MaxSeq">The highest event-store sequence among them (0 when none): the Bronze export mark that covers them.</param>
/// <param name="BronzeSnapshotId">The first Bronze snapshot whose export reached <paramref name="MaxSeq"/>; null when not exported yet.</param>
public sealed record BillingLineage(int EventCount, string EventsSha256, long MaxSeq, long? BronzeSnapshotId = null);

/// <summary>One line of a bill: what one campaign version charges for the events of a range (or, as an adjustment, for
/// the late events of a closed month).</summary>
/// <param name="CorrectsPeriod">For an adjustment line, the closed month whose late events it bills; null for a charge.</param>
public sealed record BillingLine(
    string CampaignId,
    long CampaignKey,
    BillingModel BillingModel,
    decimal? CpcRate,
    DateTimeOffset VersionStart,
    DateTimeOffset VersionEnd,
    int BillableImpressions,
    int BillableClicks,
    decimal Amount,
    int ExcludedImpressions,
    int ExcludedClicks,
    decimal ExcludedAmount,
    BillingLineage Lineage,
    BillingPeriod? CorrectsPeriod = null)
{
    public bool IsAdjustment => CorrectsPeriod is not null;

    /// <summary>Every event the line judged, billed or excluded: what a period's close records as settled.</summary>
    public IReadOnlyList<SettledEvent> Settled { get; init; } = [];
}

/// <summary>
/// The billing rule of issue 22: each stored impression and click is judged by the campaign version valid at its own
/// event time (design 3.4's time-travel join). Pure: the events and versions come in, the lines go out.
/// </summary>
public static class BillingLines
{
    /// <summary>Issue 22 "what is billed": an impression under a CPM version costs its bid_price, a click under a CPC
    /// version costs that version's cpc_rate; any other pair is not billed by that version. Null when not billed.</summary>
    public static decimal? Price(CampaignVersion version, BillingEvent e)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(e);
        return (version.BillingModel, e.Kind) switch
        {
            (BillingModel.Cpm, BillingEventKind.Impression) => e.BidPrice,
            (BillingModel.Cpc, BillingEventKind.Click) => version.CpcRate ?? 0m,
            _ => null,
        };
    }

    /// <summary>
    /// One line per campaign version in force during [from, to) (with <paramref name="idleVersions"/>, also those that
    /// billed nothing), for the events whose time lies in [from, to). Events of no known version are not billed.
    /// Lines are ordered by campaign id, then version start.
    /// </summary>
    public static IReadOnlyList<BillingLine> Compute(
        IEnumerable<CampaignVersion> versions, IEnumerable<BillingEvent> events, DateTimeOffset from, DateTimeOffset to,
        bool idleVersions = true, BillingPeriod? corrects = null)
    {
        ArgumentNullException.ThrowIfNull(versions);
        ArgumentNullException.ThrowIfNull(events);
        var byCampaign = versions
            .Where(v => v.StartTs < to && v.EndTs > from)
            .GroupBy(v => v.CampaignId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(v => v.StartTs).ToArray(), StringComparer.Ordinal);
        var tallies = new Dictionary<long, Tally>();
        foreach (var e in events)
        {
            if (e.Time < from || e.Time >= to || !byCampaign.TryGetValue(e.CampaignId, out var history)) continue;
            var version = Array.Find(history, v => v.IsValidAt(e.Time));
            if (version is null || Price(version, e) is not { } price) continue;
            if (!tallies.TryGetValue(version.CampaignKey, out var tally)) tallies[version.CampaignKey] = tally = new Tally();
            tally.Add(e, price);
        }

        var lines = new List<BillingLine>();
        foreach (var version in byCampaign.Values.SelectMany(h => h).OrderBy(v => v.CampaignId, StringComparer.Ordinal).ThenBy(v => v.StartTs))
        {
            var tally = tallies.GetValueOrDefault(version.CampaignKey);
            if (tally is null && !idleVersions) continue;
            tally ??= new Tally();
            lines.Add(new BillingLine(version.CampaignId, version.CampaignKey, version.BillingModel, version.CpcRate, version.StartTs, version.EndTs,
                tally.Impressions, tally.Clicks, tally.Amount, tally.ExcludedImpressions, tally.ExcludedClicks, tally.ExcludedAmount,
                Lineage(tally.Billed), corrects)
            {
                Settled = tally.Settled,
            });
        }

        return lines;
    }

    /// <summary>The lineage of billed events: their number, the hex SHA-256 of their ids sorted by ordinal order, each
    /// followed by a line feed (so anyone can recompute it from the ids), and the highest event-store sequence.</summary>
    public static BillingLineage Lineage(IReadOnlyCollection<BillingEvent> billed)
    {
        ArgumentNullException.ThrowIfNull(billed);
        var text = new StringBuilder();
        foreach (var id in billed.Select(e => e.EventId).Order(StringComparer.Ordinal)) text.Append(id).Append('\n');
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        return new BillingLineage(billed.Count, hash, billed.Count == 0 ? 0 : billed.Max(e => e.Seq));
    }

    private sealed class Tally
    {
        public int Impressions { get; private set; }

        public int Clicks { get; private set; }

        public decimal Amount { get; private set; }

        public int ExcludedImpressions { get; private set; }

        public int ExcludedClicks { get; private set; }

        public decimal ExcludedAmount { get; private set; }

        public List<BillingEvent> Billed { get; } = [];

        public List<SettledEvent> Settled { get; } = [];

        public void Add(BillingEvent e, decimal price)
        {
            if (e.SettledAsBilled is { } billed)
            {
                Reverse(e, billed, e.SettledPrice ?? price, price);
                return;
            }

            Settled.Add(new SettledEvent(e.EventId, !e.Excluded, price));
            // Issue 22: duplicates, invalid and fraud-flagged events are never billed; the flagged ones are shown as excluded.
            if (e.Excluded)
            {
                if (e.Kind == BillingEventKind.Impression) ExcludedImpressions++;
                else ExcludedClicks++;
                ExcludedAmount += price;
                return;
            }

            if (e.Kind == BillingEventKind.Impression) Impressions++;
            else Clicks++;
            Amount += price;
            Billed.Add(e);
        }

        // Issue 22 (closed periods): an event a closed bill settled whose verdict changed since (a click a later click
        // pushed over a burst limit, say) moves between billed and excluded in an adjustment: a credit of exactly what
        // was billed, or a charge of what is billable now in place of what was excluded.
        private void Reverse(BillingEvent e, bool wasBilled, decimal settledPrice, decimal price)
        {
            var sign = wasBilled ? -1 : 1;
            var moved = wasBilled ? settledPrice : price;
            if (e.Kind == BillingEventKind.Impression)
            {
                Impressions += sign;
                ExcludedImpressions -= sign;
            }
            else
            {
                Clicks += sign;
                ExcludedClicks -= sign;
            }

            Amount += sign * moved;
            ExcludedAmount -= sign * settledPrice;
            if (!wasBilled) Billed.Add(e);
            Settled.Add(new SettledEvent(e.EventId, !wasBilled, moved));
        }
    }
}
