namespace Attribution.Domain.MultiTouch;

/// <summary>User-level last click: the user's latest click before the conversion, across campaigns, takes it all.</summary>
public sealed class LastClickModel : IMultiTouchModel
{
    public string Name => MultiTouchModels.LastClick;

    // Design rule "last_click": 100 % to the latest touchpoint (ties broken by the chronological order).
    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt) =>
        OneHot(touchpoints.Count, touchpoints.Count - 1);

    internal static decimal[] OneHot(int count, int index)
    {
        var weights = new decimal[count];
        weights[index] = 1m;
        return weights;
    }
}

/// <summary>The click that started the path takes it all.</summary>
public sealed class FirstClickModel : IMultiTouchModel
{
    public string Name => MultiTouchModels.FirstClick;

    // Design rule "first_click": 100 % to the earliest touchpoint.
    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt) =>
        LastClickModel.OneHot(touchpoints.Count, 0);
}

/// <summary>Every touchpoint counts the same.</summary>
public sealed class LinearModel : IMultiTouchModel
{
    public string Name => MultiTouchModels.Linear;

    // Design rule "linear": equal weight per touchpoint, so a campaign clicked twice gets twice the credit.
    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt) =>
        Enumerable.Repeat(1m, touchpoints.Count).ToArray();
}

/// <summary>Recent touchpoints count more: a touchpoint's weight halves with every half-life of age.</summary>
public sealed class TimeDecayModel : IMultiTouchModel
{
    public TimeDecayModel(TimeSpan halfLife)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(halfLife, TimeSpan.Zero);
        HalfLife = halfLife;
    }

    public static TimeSpan DefaultHalfLife { get; } = TimeSpan.FromDays(7);

    public TimeSpan HalfLife { get; }

    public string Name => MultiTouchModels.TimeDecay;

    // Design rule "time_decay": weight = 2^(-(t - click time) / half_life), normalised by the caller.
    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt)
    {
        // Measured from the latest touchpoint instead of t: the common factor 2^(-(t - latest)/h) cancels when
        // normalising, and the latest weight is then exactly 1, so the weights cannot all underflow to 0.
        var latest = touchpoints[^1].ClickTime;
        var weights = new decimal[touchpoints.Count];
        for (var i = 0; i < weights.Length; i++)
        {
            var halfLives = (latest - touchpoints[i].ClickTime).Ticks / (double)HalfLife.Ticks;
            weights[i] = (decimal)Math.Pow(2, -halfLives);
        }

        return weights;
    }
}

/// <summary>U-shaped: the first and last touchpoints matter most.</summary>
public sealed class PositionBasedModel : IMultiTouchModel
{
    public string Name => MultiTouchModels.PositionBased;

    // Design rule "position_based 40/20/40": 40 % first, 40 % last, 20 % split over the middle; one touchpoint
    // takes 100 %, two take 50/50.
    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt)
    {
        var count = touchpoints.Count;
        if (count <= 2)
        {
            return Enumerable.Repeat(1m, count).ToArray();
        }

        // Integer weights in the ratio 0.4 : 0.2/(n-2) each : 0.4, i.e. 2(n-2) : 1 : 2(n-2), so nothing is rounded here.
        var middle = count - 2;
        var weights = Enumerable.Repeat(1m, count).ToArray();
        weights[0] = 2m * middle;
        weights[^1] = 2m * middle;
        return weights;
    }
}
