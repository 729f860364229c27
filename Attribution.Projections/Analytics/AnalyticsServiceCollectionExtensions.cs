using Attribution.Projections.Campaigns;
using Attribution.Projections.Rollups;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Projections.Analytics;

public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>The read side of issue 5 (rollup metrics, behaviour, multi-touch) and the campaign dimension.</summary>
    public static IServiceCollection AddAttributionAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<MetricsQueries>();
        services.AddSingleton<BehaviourQueries>();
        services.AddSingleton<MultiTouchReport>();
        services.AddSingleton<CampaignDimension>();
        services.AddSingleton<PacingQueries>();
        return services;
    }
}
