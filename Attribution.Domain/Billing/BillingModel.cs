namespace Attribution.Domain.Billing;

/// <summary>How a campaign version bills (issue 22): per impression served or per valid click.</summary>
public enum BillingModel
{
    /// <summary>Pay per impression: each billable impression costs its bid_price.</summary>
    Cpm,

    /// <summary>Pay per click: each billable click costs the version's cpc_rate.</summary>
    Cpc,
}

/// <summary>The stored spellings of <see cref="BillingModel"/>, and what a model needs.</summary>
public static class BillingModels
{
    public const string Cpm = "CPM";
    public const string Cpc = "CPC";

    /// <summary>The largest cpc_rate that numeric(18, 6) holds.</summary>
    public const decimal MaxRate = 999_999_999_999m;

    public static string ToCode(this BillingModel model) => model switch
    {
        BillingModel.Cpm => Cpm,
        BillingModel.Cpc => Cpc,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    public static bool TryParse(string? code, out BillingModel model)
    {
        switch (code)
        {
            case Cpm:
                model = BillingModel.Cpm;
                return true;
            case Cpc:
                model = BillingModel.Cpc;
                return true;
            default:
                model = default;
                return false;
        }
    }

    /// <summary>Issue 22: a CPC version needs a cpc_rate, and no rate is negative. Null when the pair is allowed.</summary>
    public static string? RateError(BillingModel model, decimal? cpcRate) =>
        cpcRate < 0 ? $"cpc_rate {cpcRate} is negative"
        : cpcRate > MaxRate ? $"cpc_rate {cpcRate} is too large"
        : model == BillingModel.Cpc && cpcRate is null ? "billing_model CPC needs a cpc_rate"
        : null;
}
