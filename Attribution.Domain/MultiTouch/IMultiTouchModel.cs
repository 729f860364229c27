namespace Attribution.Domain.MultiTouch;

/// <summary>A rule that says how much each touchpoint on the path to a conversion contributed.</summary>
public interface IMultiTouchModel
{
    /// <summary>The model's name as stored and reported, e.g. "linear".</summary>
    string Name { get; }

    /// <summary>
    /// Relative weights, one per touchpoint, each at least 0 and not all 0. The touchpoints are non-empty and in
    /// <see cref="Touchpoint.Chronological"/> order. Weights need not sum to 1: the caller normalises them exactly.
    /// </summary>
    IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt);
}
