using Attribution.Domain.Billing;
using Attribution.Domain.Campaigns;

using Scd2Decision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;

namespace Attribution.Tests.Domain.Billing;

/// <summary>billing_model and cpc_rate as SCD2 attributes of a campaign (issue 22).</summary>
public class CampaignBillingScd2Tests
{
    private static readonly DateTimeOffset Jan1 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Feb1 = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly CampaignVersion Spring = new(10, "cmp-1", "Spring", 100m, "DAILY", CampaignStatus.Active, Jan1, CampaignVersion.OpenEnd, IsCurrent: true);

    [Fact]
    public void Given_a_new_campaign_without_a_billing_model_when_it_is_created_then_it_bills_per_impression()
    {
        var created = Assert.IsType<Scd2Decision.Created>(CampaignScd2.Decide(null, new CampaignChange("cmp-1", Jan1, "Spring", 100m, "DAILY", CampaignStatus.Active), newKey: 10));

        Assert.Equal((BillingModel.Cpm, (decimal?)null), (created.Version.BillingModel, created.Version.CpcRate));
    }

    [Fact]
    public void Given_a_cpm_version_when_it_switches_to_cpc_with_a_rate_then_a_new_version_opens_with_both_and_the_rest_kept()
    {
        var superseded = Assert.IsType<Scd2Decision.Superseded>(
            CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, BillingModel: BillingModel.Cpc, CpcRate: 0.25m), newKey: 11));

        Assert.Equal(Spring with { EndTs = Feb1, IsCurrent = false }, superseded.Closed);
        Assert.Equal(Spring with { CampaignKey = 11, StartTs = Feb1, BillingModel = BillingModel.Cpc, CpcRate = 0.25m }, superseded.Opened);
    }

    [Fact]
    public void Given_a_cpm_version_when_cpc_arrives_without_a_rate_then_the_change_is_rejected()
    {
        var rejected = Assert.IsType<Scd2Decision.Rejected>(CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, BillingModel: BillingModel.Cpc), newKey: 11));

        Assert.Contains("cpc_rate", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_cpc_version_when_only_the_rate_changes_then_it_is_a_new_version_and_the_same_rate_is_no_change()
    {
        var cpc = Spring with { BillingModel = BillingModel.Cpc, CpcRate = 0.25m };

        var raised = Assert.IsType<Scd2Decision.Superseded>(CampaignScd2.Decide(cpc, new CampaignChange("cmp-1", Feb1, CpcRate: 0.30m), newKey: 11));
        var same = CampaignScd2.Decide(cpc, new CampaignChange("cmp-1", Feb1, CpcRate: 0.250000m), () => throw new InvalidOperationException("no key needed"));

        Assert.Equal(0.30m, raised.Opened.CpcRate);
        Assert.IsType<Scd2Decision.Unchanged>(same);
    }

    [Fact]
    public void Given_a_negative_rate_when_it_arrives_then_the_change_is_rejected()
    {
        Assert.IsType<Scd2Decision.Rejected>(CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, BillingModel: BillingModel.Cpc, CpcRate: -1m), newKey: 11));
    }

    [Fact]
    public void Given_two_changes_at_one_instant_when_merged_then_model_and_rate_combine_into_one_version()
    {
        var result = CampaignScd2.Merge([Spring],
            [new CampaignChange("cmp-1", Feb1, BillingModel: BillingModel.Cpc, Sequence: 2), new CampaignChange("cmp-1", Feb1, CpcRate: 0.5m, Sequence: 1)],
            () => 11);

        Assert.Empty(result.Rejections);
        var opened = Assert.Single(result.Writes, w => w.Row.IsCurrent).Row;
        Assert.Equal((BillingModel.Cpc, (decimal?)0.5m), (opened.BillingModel, opened.CpcRate));
    }
}
