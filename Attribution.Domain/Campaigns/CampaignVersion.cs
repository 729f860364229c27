using Attribution.Domain.Billing;
using Attribution.Domain.Dimensions;
using Attribution.Domain.Tracking;

namespace Attribution.Domain.Campaigns;

/// <summary>A campaign's delivery status, stored as ACTIVE / PAUSED.</summary>
public enum CampaignStatus
{
    Active,
    Paused,
}

/// <summary>The stored spellings of <see cref="CampaignStatus"/>.</summary>
public static class CampaignStatusCodes
{
    public const string Active = "ACTIVE";
    public const string Paused = "PAUSED";

    public static string ToCode(this CampaignStatus status) => status switch
    {
        CampaignStatus.Active => Active,
        CampaignStatus.Paused => Paused,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static bool TryParse(string? code, out CampaignStatus status)
    {
        switch (code)
        {
            case Active:
                status = CampaignStatus.Active;
                return true;
            case Paused:
                status = CampaignStatus.Paused;
                return true;
            default:
                status = default;
                return false;
        }
    }
}

/// <summary>One row of dim_campaigns: a campaign's attributes during [StartTs, EndTs).</summary>
/// <param name="CampaignKey">Surrogate key of this version.</param>
/// <param name="CampaignId">Natural key, the id in the source systems.</param>
public sealed record CampaignVersion(
    long CampaignKey,
    string CampaignId,
    string Name,
    decimal BudgetAmount,
    string BudgetType,
    CampaignStatus Status,
    DateTimeOffset StartTs,
    DateTimeOffset EndTs,
    bool IsCurrent) : IScd2Version<CampaignVersion>
{
    /// <summary>The hosts /click may redirect to for this campaign without a signature (issue 19).</summary>
    public LandingDomains LandingDomains { get; init; } = LandingDomains.Empty;

    /// <summary>How this version bills (issue 22): CPM bills its impressions' bid prices, CPC its valid clicks at <see cref="CpcRate"/>.</summary>
    public BillingModel BillingModel { get; init; } = BillingModel.Cpm;

    /// <summary>The price of one valid click under CPC; kept (unused) when a later version switches back to CPM.</summary>
    public decimal? CpcRate { get; init; }

    /// <summary>The end of a version that is still current (design 3.4: the 9999-12-31 high watermark).</summary>
    public static DateTimeOffset OpenEnd => Scd2.OpenEnd;

    long IScd2Version<CampaignVersion>.Key => CampaignKey;

    string IScd2Version<CampaignVersion>.MemberId => CampaignId;

    CampaignVersion IScd2Version<CampaignVersion>.WithValidity(long key, DateTimeOffset startTs, DateTimeOffset endTs, bool isCurrent) =>
        this with { CampaignKey = key, StartTs = startTs, EndTs = endTs, IsCurrent = isCurrent };

    /// <summary>Design rule "time-travel join" (3.4): a version is valid at t when start_ts &lt;= t &lt; end_ts.</summary>
    public bool IsValidAt(DateTimeOffset t) => StartTs <= t && t < EndTs;

    /// <summary>Whether two versions carry the same tracked attributes (budget 100 and 100.00 are the same).</summary>
    public bool SameAttributesAs(CampaignVersion other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return string.Equals(Name, other.Name, StringComparison.Ordinal)
            && BudgetAmount == other.BudgetAmount
            && string.Equals(BudgetType, other.BudgetType, StringComparison.Ordinal)
            && Status == other.Status
            && LandingDomains.Equals(other.LandingDomains)
            && BillingModel == other.BillingModel
            && CpcRate == other.CpcRate;
    }
}

/// <summary>
/// A staged change to a campaign, effective from <paramref name="EffectiveAt"/>. Attributes left null keep their
/// current value; the first version of a campaign needs all of them.
/// </summary>
/// <param name="Sequence">Orders changes with the same effective time (e.g. the staging row id); later wins.</param>
/// <param name="LandingDomains">The new landing domains (an empty list clears them); null keeps the current ones, and a new campaign starts with none.</param>
/// <param name="BillingModel">CPM or CPC; null keeps the current model, and a new campaign starts with CPM.</param>
/// <param name="CpcRate">The price of a valid click; null keeps the current rate (CPC needs one).</param>
public sealed record CampaignChange(
    string CampaignId,
    DateTimeOffset EffectiveAt,
    string? Name = null,
    decimal? BudgetAmount = null,
    string? BudgetType = null,
    CampaignStatus? Status = null,
    long Sequence = 0,
    LandingDomains? LandingDomains = null,
    BillingModel? BillingModel = null,
    decimal? CpcRate = null) : IScd2Change<CampaignChange, CampaignVersion>
{
    string IScd2Change<CampaignChange, CampaignVersion>.MemberId => CampaignId;

    /// <summary>The campaign's attributes after this change: those it leaves null keep their current value, and a
    /// first version needs them all.</summary>
    public CampaignVersion? Open(CampaignVersion? current, DateTimeOffset effective, out string? error)
    {
        error = null;
        var name = Name ?? current?.Name;
        var budget = BudgetAmount ?? current?.BudgetAmount;
        var budgetType = BudgetType ?? current?.BudgetType;
        var status = Status ?? current?.Status;
        // Landing domains are optional: a campaign without any redirects only signed clicks (issue 19).
        var landingDomains = LandingDomains ?? current?.LandingDomains ?? Tracking.LandingDomains.Empty;
        var billingModel = BillingModel ?? current?.BillingModel ?? Billing.BillingModel.Cpm;
        var cpcRate = CpcRate ?? current?.CpcRate;
        if (name is null || budget is null || budgetType is null || status is null)
        {
            var missing = new[] { ("name", name is null), ("budget_amount", budget is null), ("budget_type", budgetType is null), ("status", status is null) }
                .Where(m => m.Item2)
                .Select(m => m.Item1);
            error = $"campaign {CampaignId} is new, and its first version lacks {string.Join(", ", missing)}";
            return null;
        }

        if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(budgetType))
        {
            error = "name and budget_type may not be blank";
            return null;
        }

        // Design rule "negative values go to the audit path" (3.2.1): a negative budget is refused, not stored.
        if (budget < 0)
        {
            error = $"budget_amount {budget} is negative";
            return null;
        }

        if (BillingModels.RateError(billingModel, cpcRate) is { } rateError)
        {
            error = rateError;
            return null;
        }

        return new CampaignVersion(0, CampaignId, name, budget.Value, budgetType, status.Value, effective, CampaignVersion.OpenEnd, IsCurrent: true)
        {
            LandingDomains = landingDomains,
            BillingModel = billingModel,
            CpcRate = cpcRate,
        };
    }

    /// <summary>This change with <paramref name="later"/>'s attributes laid over it, for changes at one instant.</summary>
    public CampaignChange Then(CampaignChange later)
    {
        ArgumentNullException.ThrowIfNull(later);
        return this with
        {
            Name = later.Name ?? Name,
            BudgetAmount = later.BudgetAmount ?? BudgetAmount,
            BudgetType = later.BudgetType ?? BudgetType,
            Status = later.Status ?? Status,
            LandingDomains = later.LandingDomains ?? LandingDomains,
            BillingModel = later.BillingModel ?? BillingModel,
            CpcRate = later.CpcRate ?? CpcRate,
            Sequence = Math.Max(Sequence, later.Sequence),
        };
    }
}
