namespace Attribution.Domain.MultiTouch;

/// <summary>A user's campaign path, converted or not; <paramref name="Count"/> lets identical paths come pre-aggregated.</summary>
public sealed record CampaignPath(IReadOnlyList<string> Campaigns, bool Converted, long Count = 1)
{
    public static CampaignPath FromTouchpoints(IEnumerable<Touchpoint> touchpoints, bool converted) =>
        new(touchpoints.Order(Touchpoint.Chronological).Select(t => t.CampaignId).ToArray(), converted);
}

/// <summary>
/// Data-driven attribution by the removal effect of a first-order Markov chain over campaign paths.
/// </summary>
/// <remarks>
/// Fitting: every path is a walk START → c1 → … → ck → CONVERSION (or → NULL when the user did not convert); the
/// transition probabilities are the observed transition frequencies. P(conv) is the probability that a walk from
/// START is absorbed in CONVERSION, found by solving (I − Q)x = b over the campaign states, where Q holds the
/// campaign-to-campaign probabilities and b the campaign-to-CONVERSION ones.
/// <para>
/// The removal effect of campaign c is 1 − P(conv without c) / P(conv), where "without c" sends every walk that
/// reaches c to NULL: the share of conversions that would be lost if c did not exist. A conversion's revenue is then
/// split over the campaigns on its own path in proportion to their removal effects (each touchpoint of c carries
/// c's effect divided by c's touchpoint count, so the campaign's total is its effect). When no campaign on the path
/// has a positive effect (for instance campaigns the model was not fitted on), the split falls back to linear.
/// </para>
/// <para>
/// Paths of converting users only can be fitted (then P(conv) = 1 and the effect measures how many conversions
/// needed c); adding non-converting paths makes the effects reflect conversion rates too.
/// </para>
/// </remarks>
public sealed class MarkovChainModel : IMultiTouchModel
{
    private MarkovChainModel(IReadOnlyDictionary<string, double> removalEffects, double conversionProbability)
    {
        RemovalEffects = removalEffects;
        ConversionProbability = conversionProbability;
    }

    public string Name => MultiTouchModels.DataDriven;

    /// <summary>Removal effect per campaign, in [0, 1].</summary>
    public IReadOnlyDictionary<string, double> RemovalEffects { get; }

    /// <summary>P(conv): the probability that a path from START ends in a conversion.</summary>
    public double ConversionProbability { get; }

    public static MarkovChainModel Fit(IEnumerable<CampaignPath> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var usable = paths.Where(p => p.Campaigns.Count > 0 && p.Count > 0).ToList();
        var campaigns = usable.SelectMany(p => p.Campaigns).Distinct().Order(StringComparer.Ordinal).ToArray();
        var index = campaigns.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var n = campaigns.Length;

        // Transition counts: row per campaign; columns are campaigns, then CONVERSION (n), then NULL (n + 1).
        var counts = new double[n, n + 2];
        var starts = new double[n];
        foreach (var path in usable)
        {
            starts[index[path.Campaigns[0]]] += path.Count;
            for (var k = 0; k + 1 < path.Campaigns.Count; k++)
            {
                counts[index[path.Campaigns[k]], index[path.Campaigns[k + 1]]] += path.Count;
            }

            counts[index[path.Campaigns[^1]], path.Converted ? n : n + 1] += path.Count;
        }

        var conversion = AbsorptionProbability(counts, starts, removed: -1);
        var effects = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (var c = 0; c < n; c++)
        {
            var without = AbsorptionProbability(counts, starts, removed: c);
            // Design rule "data-driven = Markov removal effect": the share of conversions lost without the campaign.
            var effect = conversion > 0 ? 1 - (without / conversion) : 0;
            effects[campaigns[c]] = double.IsFinite(effect) ? Math.Clamp(effect, 0, 1) : 0;
        }

        return new MarkovChainModel(effects, conversion);
    }

    public IReadOnlyList<decimal> Weigh(IReadOnlyList<Touchpoint> touchpoints, DateTimeOffset convertedAt)
    {
        var perCampaign = touchpoints.GroupBy(t => t.CampaignId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var weights = touchpoints
            .Select(t => (decimal)RemovalEffects.GetValueOrDefault(t.CampaignId) / perCampaign[t.CampaignId])
            .ToArray();
        return weights.Any(w => w > 0) ? weights : Enumerable.Repeat(1m, touchpoints.Count).ToArray();
    }

    /// <summary>P(absorbed in CONVERSION | START), optionally with one campaign state turned into a dead end.</summary>
    private static double AbsorptionProbability(double[,] counts, double[] starts, int removed)
    {
        var n = starts.Length;
        if (n == 0)
        {
            return 0;
        }

        // Build (I - Q) x = b; a removed campaign's row becomes x_c = 0.
        var a = new double[n, n];
        var b = new double[n];
        for (var i = 0; i < n; i++)
        {
            a[i, i] = 1;
            if (i == removed)
            {
                continue;
            }

            var outgoing = 0d;
            for (var j = 0; j < n + 2; j++)
            {
                outgoing += counts[i, j];
            }

            for (var j = 0; j < n; j++)
            {
                a[i, j] -= counts[i, j] / outgoing;
            }

            b[i] = counts[i, n] / outgoing;
        }

        var x = Solve(a, b);
        var startTotal = starts.Sum();
        var probability = 0d;
        for (var i = 0; i < n; i++)
        {
            probability += starts[i] / startTotal * x[i];
        }

        return probability;
    }

    /// <summary>Gaussian elimination with partial pivoting; I − Q is non-singular because every path ends in an absorbing state.</summary>
    private static double[] Solve(double[,] a, double[] b)
    {
        var n = b.Length;
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var row = col + 1; row < n; row++)
            {
                if (Math.Abs(a[row, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = row;
                }
            }

            if (pivot != col)
            {
                for (var k = 0; k < n; k++)
                {
                    (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                }

                (b[col], b[pivot]) = (b[pivot], b[col]);
            }

            for (var row = col + 1; row < n; row++)
            {
                var factor = a[row, col] / a[col, col];
                if (factor == 0)
                {
                    continue;
                }

                for (var k = col; k < n; k++)
                {
                    a[row, k] -= factor * a[col, k];
                }

                b[row] -= factor * b[col];
            }
        }

        var x = new double[n];
        for (var row = n - 1; row >= 0; row--)
        {
            var sum = b[row];
            for (var k = row + 1; k < n; k++)
            {
                sum -= a[row, k] * x[k];
            }

            x[row] = sum / a[row, row];
        }

        return x;
    }
}
