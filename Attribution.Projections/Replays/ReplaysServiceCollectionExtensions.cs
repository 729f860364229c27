using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Projections.Replays;

public static class ReplaysServiceCollectionExtensions
{
    /// <summary>What-if replays: the runner (a hosted service, so a replay left running by a dead instance is marked
    /// failed at start), their records and their diff. Needs <see cref="EngineServiceCollectionExtensions.AddAttributionStore"/> first.</summary>
    public static IServiceCollection AddWhatIfReplays(this IServiceCollection services)
    {
        services.AddSingleton<ReplayStore>();
        services.AddSingleton<ReplayDiffQuery>();
        services.AddSingleton<WhatIfReplays>();
        services.AddHostedService(sp => sp.GetRequiredService<WhatIfReplays>());
        return services;
    }
}
