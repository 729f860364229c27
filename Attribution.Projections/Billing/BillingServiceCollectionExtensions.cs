using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Projections.Billing;

public static class BillingServiceCollectionExtensions
{
    /// <summary>Billing reports and closed periods (issue 22).</summary>
    public static IServiceCollection AddBilling(this IServiceCollection services) => services.AddSingleton<BillingLedger>();
}
