using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Projections.Fraud;

public static class FraudServiceCollectionExtensions
{
    /// <summary>The fraud reports. The rules' store is part of <see cref="EngineServiceCollectionExtensions.AddAttributionStore"/>:
    /// schema set-up seeds it.</summary>
    public static IServiceCollection AddFraudReports(this IServiceCollection services) => services.AddSingleton<AnomalyQuery>().AddSingleton<FlaggedEventStore>().AddSingleton<FraudBacktest>();
}
