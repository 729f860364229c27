using Attribution.Domain.Dimensions;
using Scd2Decision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;
using Scd2MergeResult = Attribution.Domain.Dimensions.Scd2MergeResult<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;

namespace Attribution.Domain.Campaigns;

/// <summary>
/// SCD type 2 for dim_campaigns (design 3.4): every change of budget, status, name, budget type or landing domains
/// closes the current version at the change's effective time and opens a new one, so facts join the version valid
/// when they happened (and a click is checked against the landing domains in force when it happens). The rule
/// itself is <see cref="Scd2"/>, shared with dim_users; what a campaign change may carry is CampaignChange.Open.
/// </summary>
public static class CampaignScd2
{
    /// <summary>Decides what one change does, given the campaign's current version (null for a new campaign).</summary>
    /// <param name="newKey">The surrogate key of the version the change would open; unused when none opens.</param>
    public static Scd2Decision Decide(CampaignVersion? current, CampaignChange change, long newKey) =>
        Decide(current, change, () => newKey);

    /// <summary>Decides what one change does; <paramref name="allocateKey"/> is called only when a version opens.</summary>
    public static Scd2Decision Decide(CampaignVersion? current, CampaignChange change, Func<long> allocateKey) =>
        Scd2.Decide(current, change, allocateKey);

    /// <summary>The SCD2 MERGE of a batch of staged changes (see <see cref="Scd2.Merge{TVersion,TChange}"/>).</summary>
    public static Scd2MergeResult Merge(IEnumerable<CampaignVersion> currentVersions, IEnumerable<CampaignChange> changes, Func<long> allocateKey) =>
        Scd2.Merge(currentVersions, changes, allocateKey);

    /// <summary>The version of the campaign valid at <paramref name="t"/>, or null when there is none.</summary>
    public static CampaignVersion? VersionAt(IEnumerable<CampaignVersion> history, string campaignId, DateTimeOffset t) =>
        Scd2.VersionAt(history, campaignId, t);

    /// <summary>Checks a dim_campaigns history for gaps, overlaps and current versions (see <see cref="Scd2.CheckHistory{TVersion}"/>).</summary>
    public static IReadOnlyList<string> CheckHistory(IEnumerable<CampaignVersion> history) => Scd2.CheckHistory(history);
}
