namespace Attribution.Domain.Campaigns;

/// <summary>How far a campaign's spend has used its budget.</summary>
public static class BudgetPacing
{
    public const string Daily = "DAILY";
    public const string Lifetime = "LIFETIME";

    /// <summary>
    /// Design 000 §3.4 "spend against the budget set at that time": a DAILY budget is compared with the day's spend, a
    /// LIFETIME budget with the spend to date; a zero budget or another budget type has no pacing (null).
    /// </summary>
    public static decimal? Pacing(string? budgetType, decimal? budgetAmount, decimal daySpend, decimal spendToDate)
    {
        if (budgetAmount is not { } budget || budget <= 0) return null;
        return budgetType switch
        {
            Daily => decimal.Round(daySpend / budget, 6, MidpointRounding.AwayFromZero),
            Lifetime => decimal.Round(spendToDate / budget, 6, MidpointRounding.AwayFromZero),
            _ => null,
        };
    }
}
