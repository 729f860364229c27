using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Projections.Experiments;

public static class ExperimentsServiceCollectionExtensions
{
    /// <summary>A/B tests of creatives. Needs <see cref="EngineServiceCollectionExtensions.AddAttributionStore"/> first.</summary>
    public static IServiceCollection AddExperiments(this IServiceCollection services) => services.AddSingleton<ExperimentStore>();
}
