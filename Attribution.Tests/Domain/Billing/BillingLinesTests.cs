using System.Security.Cryptography;
using System.Text;
using Attribution.Domain.Billing;
using Attribution.Domain.Campaigns;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Billing;

/// <summary>The billing rule (issue 22): each event billed by the version valid at its own time, exact money, lineage.</summary>
public class BillingLinesTests
{
    private static readonly DateTimeOffset Nov1 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Nov15 = Nov1.AddDays(14);
    private static readonly DateTimeOffset Dec1 = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly CampaignVersion Cpm = new(1, "c1", "C1", 100m, "DAILY", CampaignStatus.Active, Nov1.AddDays(-10), Nov15, IsCurrent: false);
    private static readonly CampaignVersion Cpc = new(2, "c1", "C1", 100m, "DAILY", CampaignStatus.Active, Nov15, CampaignVersion.OpenEnd, IsCurrent: true)
    {
        BillingModel = BillingModel.Cpc,
        CpcRate = 0.35m,
    };

    private static BillingEvent Imp(string id, DateTimeOffset at, decimal bid, bool excluded = false, long seq = 1) =>
        new(id, BillingEventKind.Impression, "c1", at, bid, excluded, seq);

    private static BillingEvent Clk(string id, DateTimeOffset at, bool excluded = false, long seq = 1) =>
        new(id, BillingEventKind.Click, "c1", at, 0m, excluded, seq);

    [Fact]
    public void Given_a_switch_from_cpm_to_cpc_mid_month_when_billed_then_impressions_before_and_clicks_after_are_billed_by_their_own_version()
    {
        BillingEvent[] events =
        [
            Imp("i1", Nov1.AddDays(1), 0.10m, seq: 5), Imp("i2", Nov1.AddDays(2), 0.200001m, seq: 3), Clk("k1", Nov1.AddDays(2)),
            Imp("i3", Nov1.AddDays(3), 0.5m, excluded: true),
            Imp("i4", Nov15.AddDays(1), 9m), Clk("k2", Nov15.AddDays(1), seq: 9), Clk("k3", Nov15.AddDays(2), seq: 7),
            Clk("k4", Nov15.AddDays(2), excluded: true),
            Imp("i5", Dec1, 1m), Clk("k5", Dec1),
        ];

        var lines = BillingLines.Compute([Cpc, Cpm], events, Nov1, Dec1);

        Assert.Equal([1L, 2L], lines.Select(l => l.CampaignKey));
        var (cpm, cpc) = (lines[0], lines[1]);
        Assert.Equal((2, 0, 0.300001m, 1, 0, 0.5m), (cpm.BillableImpressions, cpm.BillableClicks, cpm.Amount, cpm.ExcludedImpressions, cpm.ExcludedClicks, cpm.ExcludedAmount));
        Assert.Equal((0, 2, 0.70m, 0, 1, 0.35m), (cpc.BillableImpressions, cpc.BillableClicks, cpc.Amount, cpc.ExcludedImpressions, cpc.ExcludedClicks, cpc.ExcludedAmount));
        Assert.Equal((2, Sha("i1\ni2\n"), 5L), (cpm.Lineage.EventCount, cpm.Lineage.EventsSha256, cpm.Lineage.MaxSeq));
        Assert.Equal((2, Sha("k2\nk3\n"), 9L), (cpc.Lineage.EventCount, cpc.Lineage.EventsSha256, cpc.Lineage.MaxSeq));
        Assert.Equal(["i1", "i2", "i3"], cpm.Settled.Select(s => s.EventId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Given_a_version_without_events_when_billed_then_it_has_an_empty_line_unless_idle_versions_are_left_out()
    {
        var lines = BillingLines.Compute([Cpm, Cpc], [Imp("i1", Nov1.AddDays(1), 1m)], Nov1, Dec1);
        var busy = BillingLines.Compute([Cpm, Cpc], [Imp("i1", Nov1.AddDays(1), 1m)], Nov1, Dec1, idleVersions: false);

        Assert.Equal((0, 0m, Sha("")), (lines[1].Lineage.EventCount, lines[1].Amount, lines[1].Lineage.EventsSha256));
        Assert.Equal(1L, Assert.Single(busy).CampaignKey);
    }

    [Fact]
    public void Given_events_of_a_campaign_with_no_version_at_their_time_when_billed_then_they_are_not_billed()
    {
        var lines = BillingLines.Compute([Cpc], [Imp("i0", Nov1, 1m), new BillingEvent("x", BillingEventKind.Click, "other", Nov15.AddDays(1), 0m, false, 1)], Nov1, Dec1);

        Assert.Equal(0, Assert.Single(lines).Lineage.EventCount);
    }

    private static readonly Gen<BillingEvent> EventGen =
        from hour in Gen.Choose(-48, 24 * 31 + 48)
        from click in Gen.Elements(true, false)
        from micros in Gen.Choose(0, 5_000_000)
        from excluded in Gen.Frequency((4, Gen.Constant(false)), (1, Gen.Constant(true)))
        from id in Gen.Choose(0, 1_000_000)
        select click ? Clk($"k{id}", Nov1.AddHours(hour), excluded) : Imp($"i{id}", Nov1.AddHours(hour), micros / 1_000_000m, excluded);

    [Fact]
    public void Given_any_events_when_billed_then_the_amount_is_the_bids_under_cpm_plus_the_rate_per_click_under_cpc_and_nothing_excluded()
    {
        Seeded.Check(Config.QuickThrowOnFailure.WithMaxTest(200), Prop.ForAll(Gen.ListOf(EventGen).ToArbitrary(), events =>
        {
            var lines = BillingLines.Compute([Cpm, Cpc], events, Nov1, Dec1);

            var inRange = events.Where(e => e.Time >= Nov1 && e.Time < Dec1).ToList();
            var billed = inRange.Where(e => !e.Excluded).ToList();
            var expected = billed.Where(e => e.Kind == BillingEventKind.Impression && e.Time < Nov15).Sum(e => e.BidPrice)
                           + 0.35m * billed.Count(e => e.Kind == BillingEventKind.Click && e.Time >= Nov15);
            var excluded = inRange.Where(e => e.Excluded).ToList();
            var expectedExcluded = excluded.Where(e => e.Kind == BillingEventKind.Impression && e.Time < Nov15).Sum(e => e.BidPrice)
                                   + 0.35m * excluded.Count(e => e.Kind == BillingEventKind.Click && e.Time >= Nov15);
            return lines.Sum(l => l.Amount) == expected && lines.Sum(l => l.ExcludedAmount) == expectedExcluded
                   && lines.Sum(l => l.Lineage.EventCount) == lines.Sum(l => l.BillableImpressions + l.BillableClicks);
        }));
    }

    private static string Sha(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void Given_settled_events_whose_verdict_changed_then_the_adjustment_moves_exactly_their_settled_and_current_prices()
    {
        var lines = BillingLines.Compute([Cpm], [
            // Billed at 0.40 when its month closed, flagged now: credited the 0.40 it was billed.
            Imp("was-billed", Nov1.AddDays(1), 0.45m, excluded: true) with { SettledAsBilled = true, SettledPrice = 0.40m },
            // Excluded at 0.30 then, billable now at 0.45.
            Imp("was-excluded", Nov1.AddDays(2), 0.45m) with { SettledAsBilled = false, SettledPrice = 0.30m },
        ], Nov1, Nov15, idleVersions: false, corrects: new BillingPeriod(2026, 11));

        var line = Assert.Single(lines);
        Assert.Equal((0, 0.05m, 0, 0.10m), (line.BillableImpressions, line.Amount, line.ExcludedImpressions, line.ExcludedAmount));
        Assert.Equal([new SettledEvent("was-billed", false, 0.40m), new SettledEvent("was-excluded", true, 0.45m)], line.Settled);
        Assert.Equal(1, line.Lineage.EventCount);
    }
}
