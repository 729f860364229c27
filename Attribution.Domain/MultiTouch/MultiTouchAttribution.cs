namespace Attribution.Domain.MultiTouch;

/// <summary>Credits a conversion's revenue to the campaigns on the user's path to it, under a chosen model.</summary>
public static class MultiTouchAttribution
{
    /// <summary>
    /// The conversion's touchpoints in chronological order: the user's clicks at most <paramref name="lookback"/>
    /// before the conversion and not after it, plus the click impression-level attribution chose. Exact duplicates
    /// (the same click delivered twice) count once.
    /// </summary>
    public static IReadOnlyList<Touchpoint> Touchpoints(Conversion conversion, IEnumerable<Touchpoint> userClicks, TimeSpan lookback)
    {
        ArgumentNullException.ThrowIfNull(conversion);
        ArgumentNullException.ThrowIfNull(userClicks);
        ArgumentOutOfRangeException.ThrowIfLessThan(lookback, TimeSpan.Zero);
        if (conversion.AttributedClickTime > conversion.ConvertedAt)
        {
            throw new ArgumentException(
                $"Conversion {conversion.ConversionId} is attributed to a click after it ({conversion.AttributedClickTime:O} > {conversion.ConvertedAt:O}).",
                nameof(conversion));
        }

        // Design rule "lookback window" (3.2.1): a click is a touchpoint when time <= t and t - time <= lookback.
        var inWindow = userClicks.Where(c => c.ClickTime <= conversion.ConvertedAt && conversion.ConvertedAt - c.ClickTime <= lookback);

        // Design rule "the attributed click is always a touchpoint", even if a shorter lookback would drop it.
        // Records compare by value, so a set also drops the duplicates of at-least-once delivery.
        var touchpoints = new HashSet<Touchpoint>(inWindow) { conversion.AttributedClick };
        return touchpoints.Order(Touchpoint.Chronological).ToArray();
    }

    /// <summary>Attributes one conversion: selects its touchpoints, weighs them with the model, and splits shares and revenue exactly.</summary>
    public static ConversionCredit Attribute(Conversion conversion, IEnumerable<Touchpoint> userClicks, IMultiTouchModel model, MultiTouchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= MultiTouchOptions.Default;
        Validate(options);

        var touchpoints = Touchpoints(conversion, userClicks, options.Lookback);
        var weights = model.Weigh(touchpoints, conversion.ConvertedAt);
        CheckWeights(model, touchpoints, weights);

        var byCampaign = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        for (var i = 0; i < touchpoints.Count; i++)
        {
            byCampaign[touchpoints[i].CampaignId] = byCampaign.GetValueOrDefault(touchpoints[i].CampaignId) + weights[i];
        }

        var campaigns = byCampaign.Keys.ToArray();
        var shareScale = Pow10(options.ShareDecimals);
        // Design rule "shares sum to exactly 1": whole share units split by largest remainder, then scaled.
        var shareUnits = LargestRemainder.Allocate(shareScale, byCampaign.Values.ToArray());
        var revenue = SplitRevenue(conversion.Revenue, shareUnits, options.MoneyDecimals);

        var credits = new List<CampaignCredit>(campaigns.Length);
        for (var i = 0; i < campaigns.Length; i++)
        {
            if (shareUnits[i] > 0)
            {
                credits.Add(new CampaignCredit(campaigns[i], shareUnits[i] / shareScale, revenue[i]));
            }
        }

        return new ConversionCredit(conversion.ConversionId, conversion.UserId, model.Name, conversion.Revenue, touchpoints, credits);
    }

    /// <summary>Credited revenue per campaign over many conversions, ordered by campaign id.</summary>
    public static IReadOnlyDictionary<string, decimal> RevenueByCampaign(IEnumerable<ConversionCredit> credits)
    {
        ArgumentNullException.ThrowIfNull(credits);
        var totals = new SortedDictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var credit in credits.SelectMany(c => c.Credits))
        {
            totals[credit.CampaignId] = totals.GetValueOrDefault(credit.CampaignId) + credit.Revenue;
        }

        return totals;
    }

    // Design rule "credited revenue is conserved": money is split in whole units in proportion to the shares, so the
    // parts add up to exactly the conversion's revenue.
    private static decimal[] SplitRevenue(decimal revenue, decimal[] shareUnits, int moneyDecimals)
    {
        var magnitude = Math.Abs(revenue);
        // Split at least as finely as the revenue is written, so a revenue with more places is still split exactly.
        var scale = Math.Max(moneyDecimals, (int)revenue.Scale);
        var unit = Pow10(scale);
        if (magnitude > decimal.MaxValue / unit)
        {
            // Too large for the finer unit: the revenue's own last place is always a whole number of units.
            unit = Pow10(revenue.Scale);
        }

        var parts = LargestRemainder.Allocate(magnitude * unit, shareUnits);
        var sign = revenue < 0 ? -1 : 1;
        return parts.Select(p => sign * p / unit).ToArray();
    }

    private static void CheckWeights(IMultiTouchModel model, IReadOnlyList<Touchpoint> touchpoints, IReadOnlyList<decimal> weights)
    {
        if (weights.Count != touchpoints.Count || weights.Any(w => w < 0) || weights.All(w => w == 0))
        {
            throw new InvalidOperationException(
                $"Model {model.Name} must return one weight per touchpoint, none negative and not all zero.");
        }
    }

    private static void Validate(MultiTouchOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Lookback, TimeSpan.Zero, nameof(options));
        if (options.ShareDecimals is < 1 or > 18)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ShareDecimals, "ShareDecimals must be between 1 and 18.");
        }

        if (options.MoneyDecimals is < 0 or > 18)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MoneyDecimals, "MoneyDecimals must be between 0 and 18.");
        }
    }

    private static decimal Pow10(int exponent)
    {
        var result = 1m;
        for (var i = 0; i < exponent; i++)
        {
            result *= 10m;
        }

        return result;
    }
}
