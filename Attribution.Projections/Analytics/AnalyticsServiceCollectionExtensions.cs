using Attribution.Projections.Campaigns;
using Attribution.Projections.Rollups;
using Attribution.Projections.Users;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Attribution.Projections.Analytics;

public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>The read side of issue 5 (rollup metrics, behaviour, multi-touch), the campaign and user dimensions and
    /// the audience analysis.</summary>
    public static IServiceCollection AddAttributionAnalytics(this IServiceCollection services)
    {
        services.AddSingleton<MetricsQueries>();
        services.AddSingleton<BehaviourQueries>();
        services.AddSingleton<MultiTouchReport>();
        services.AddSingleton<CampaignDimension>();
        // /click's allow-list, served from memory (issue 19): loaded before the service takes requests.
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LandingDomainCache>();
        services.AddOptions<LandingDomainOptions>().BindConfiguration("Tracking");
        services.AddHostedService<LandingDomainRefresher>();
        services.AddSingleton<PacingQueries>();
        services.TryAddSingleton<UserDimension>();
        services.AddSingleton<AudienceQueries>();
        services.AddSingleton<AudienceCube>();
        services.AddOptions<AudienceOptions>().BindConfiguration("Audience");
        services.AddHostedService<AudienceRefresher>();
        return services;
    }
}
