namespace Attribution.Domain.MultiTouch;

/// <summary>The models by their stored names.</summary>
public static class MultiTouchModels
{
    public const string LastClick = "last_click";
    public const string FirstClick = "first_click";
    public const string Linear = "linear";
    public const string TimeDecay = "time_decay";
    public const string PositionBased = "position_based";
    public const string DataDriven = "data_driven";

    /// <summary>The rule-based models; the data-driven one needs data and comes from <see cref="MarkovChainModel.Fit"/>.</summary>
    public static IReadOnlyList<string> RuleBased { get; } = [LastClick, FirstClick, Linear, TimeDecay, PositionBased];

    /// <summary>A rule-based model by name; <paramref name="halfLife"/> is used by time_decay only (default 7 days).</summary>
    public static IMultiTouchModel Create(string name, TimeSpan? halfLife = null) => name switch
    {
        LastClick => new LastClickModel(),
        FirstClick => new FirstClickModel(),
        Linear => new LinearModel(),
        TimeDecay => new TimeDecayModel(halfLife ?? TimeDecayModel.DefaultHalfLife),
        PositionBased => new PositionBasedModel(),
        DataDriven => throw new ArgumentException("The data-driven model is fitted on paths: use MarkovChainModel.Fit.", nameof(name)),
        _ => throw new ArgumentException($"Unknown attribution model '{name}'.", nameof(name)),
    };
}
