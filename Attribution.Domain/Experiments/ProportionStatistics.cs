namespace Attribution.Domain.Experiments;

/// <summary>A confidence interval of a proportion.</summary>
public sealed record Interval(double Lower, double Upper);

/// <summary>An arm's proportion against the control's: relative lift, pooled z and its two-sided p-value.</summary>
public sealed record ProportionTest(double? Lift, double? Z, double? PValue, bool Significant);

/// <summary>The sample-ratio-mismatch check: impressions per arm against the weights.</summary>
public sealed record SampleRatioCheck(double ChiSquare, int DegreesOfFreedom, double? PValue, bool SrmDetected);

/// <summary>The statistics of an A/B verdict; docs/EXPERIMENTS.md has the formulas with a worked example.</summary>
public static class ProportionStatistics
{
    /// <summary>The p-value under which impressions per arm are taken as not following the weights (a broken split).</summary>
    public const double SrmThreshold = 0.001;

    /// <summary>The power the required sample size is computed for.</summary>
    public const double Power = 0.80;

    /// <summary>The Wilson score interval of successes/trials; null with no trials.</summary>
    public static Interval? Wilson(long successes, long trials, double confidence = 0.95)
    {
        if (trials <= 0) return null;
        var z = Distributions.NormalQuantile(1 - (1 - confidence) / 2);
        var n = (double)trials;
        var p = successes / n;
        var z2n = z * z / n;
        var centre = (p + z2n / 2) / (1 + z2n);
        var half = z / (1 + z2n) * Math.Sqrt(p * (1 - p) / n + z2n / (4 * n));
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>The treatment's proportion against the control's: lift = (p_t − p_c)/p_c, the pooled two-proportion
    /// z = (p_t − p_c)/√(p(1−p)(1/n_c + 1/n_t)) with p = (x_c + x_t)/(n_c + n_t), and p-value = P(|Z| ≥ |z|).</summary>
    public static ProportionTest TwoProportion(long controlSuccesses, long controlTrials, long successes, long trials, double alpha)
    {
        if (controlTrials <= 0 || trials <= 0) return new ProportionTest(null, null, null, false);
        var pc = controlSuccesses / (double)controlTrials;
        var pt = successes / (double)trials;
        double? lift = controlSuccesses == 0 ? null : (pt - pc) / pc;
        var pooled = (controlSuccesses + successes) / (double)(controlTrials + trials);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / controlTrials + 1.0 / trials));
        if (se == 0) return new ProportionTest(lift, null, null, false);
        var z = (pt - pc) / se;
        var p = Distributions.TwoSidedP(z);
        return new ProportionTest(lift, z, p, p < alpha);
    }

    /// <summary>Pearson's chi-square of the observed counts against the weights' shares, k − 1 degrees of freedom.</summary>
    public static SampleRatioCheck SampleRatio(IReadOnlyList<long> observed, IReadOnlyList<double> weights)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(weights);
        if (observed.Count != weights.Count || observed.Count < 2) throw new ArgumentException("one weight per observed count, at least two", nameof(weights));
        var total = observed.Sum();
        var df = observed.Count - 1;
        if (total == 0) return new SampleRatioCheck(0, df, null, false);
        var weightSum = weights.Sum();
        var chi = 0.0;
        for (var i = 0; i < observed.Count; i++)
        {
            var expected = total * weights[i] / weightSum;
            chi += (observed[i] - expected) * (observed[i] - expected) / expected;
        }

        var p = Distributions.ChiSquareSurvival(chi, df);
        return new SampleRatioCheck(chi, df, p, p < SrmThreshold);
    }

    /// <summary>Impressions per arm to detect a relative change <paramref name="mde"/> of a baseline rate with a
    /// two-sided test at <paramref name="alpha"/> and 80 % power: n = (z₁₋α/₂·√(2p̄(1−p̄)) + z₁₋β·√(p₁(1−p₁) + p₂(1−p₂)))² / (p₂ − p₁)²,
    /// p₂ = p₁(1 + mde), p̄ = (p₁ + p₂)/2, rounded up. Null when the baseline is 0 (nothing to scale) or p₂ would reach 1.</summary>
    public static long? RequiredSampleSize(double baseline, double mde, double alpha, double power = Power)
    {
        var p1 = baseline;
        var p2 = baseline * (1 + mde);
        if (p1 <= 0 || p1 >= 1 || p2 >= 1 || p2 <= 0) return null;
        var zAlpha = Distributions.NormalQuantile(1 - alpha / 2);
        var zBeta = Distributions.NormalQuantile(power);
        var pBar = (p1 + p2) / 2;
        var root = zAlpha * Math.Sqrt(2 * pBar * (1 - pBar)) + zBeta * Math.Sqrt(p1 * (1 - p1) + p2 * (1 - p2));
        return (long)Math.Ceiling(root * root / ((p2 - p1) * (p2 - p1)));
    }
}
