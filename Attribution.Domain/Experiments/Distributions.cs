namespace Attribution.Domain.Experiments;

/// <summary>
/// The standard normal and chi-square distributions the experiment verdicts need, in plain C# (the domain takes no
/// packages). Accurate to about 1e-14 relative over the ranges a verdict reads; the tests check them against tables.
/// </summary>
public static class Distributions
{
    private const double SqrtPi = 1.7724538509055160273;

    /// <summary>Φ(z), the standard normal CDF.</summary>
    public static double NormalCdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>P(|Z| ≥ |z|): the two-sided p-value of a z statistic, computed without the cancellation of 1 − Φ.</summary>
    public static double TwoSidedP(double z) => Erfc(Math.Abs(z) / Math.Sqrt(2));

    /// <summary>Φ⁻¹(p): Acklam's rational approximation, then one Halley step on our Φ (full double precision).</summary>
    public static double NormalQuantile(double p)
    {
        if (p is <= 0 or >= 1 || double.IsNaN(p)) throw new ArgumentOutOfRangeException(nameof(p), p, "a probability strictly between 0 and 1");
        double[] a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00];
        double[] b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01];
        double[] c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00];
        double[] d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
        const double low = 0.02425;
        double x;
        if (p < low)
        {
            var q = Math.Sqrt(-2 * Math.Log(p));
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        else if (p <= 1 - low)
        {
            var q = p - 0.5;
            var r = q * q;
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
        }
        else
        {
            var q = Math.Sqrt(-2 * Math.Log(1 - p));
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }

        var e = NormalCdf(x) - p;
        var u = e * Math.Sqrt(2 * Math.PI) * Math.Exp(x * x / 2);
        return x - u / (1 + x * u / 2);
    }

    /// <summary>erfc(x): the Taylor series of erf near 0, a continued fraction in the tails.</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (x < 0) return 2 - Erfc(-x);
        if (x < 2) return 1 - ErfSeries(x);
        if (x > 27) return 0;
        // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated with Lentz's method.
        const double tiny = 1e-300;
        var f = x;
        var c = x;
        var d = 0.0;
        for (var n = 1; n < 500; n++)
        {
            var an = n / 2.0;
            d = x + an * d;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = x + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }

        return Math.Exp(-x * x) / SqrtPi / f;
    }

    private static double ErfSeries(double x)
    {
        // erf(x) = 2/√π · Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n+1))
        var term = x;
        var sum = x;
        var x2 = x * x;
        for (var n = 1; n < 200; n++)
        {
            term *= -x2 / n;
            var add = term / (2 * n + 1);
            sum += add;
            if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
        }

        return 2 / SqrtPi * sum;
    }

    /// <summary>P(χ²ₖ ≥ x): the chi-square survival function, the regularized upper incomplete gamma Q(k/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (x <= 0) return 1;
        return UpperRegularizedGamma(degreesOfFreedom / 2.0, x / 2);
    }

    /// <summary>Q(a, x) = Γ(a, x)/Γ(a): the series of P below a + 1, a continued fraction above (Numerical Recipes §6.2).</summary>
    private static double UpperRegularizedGamma(double a, double x)
    {
        var logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            var term = 1 / a;
            var sum = term;
            for (var n = 1; n < 10_000; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * 1e-16) break;
            }

            return Math.Max(0, 1 - sum * Math.Exp(logPrefix));
        }

        const double tiny = 1e-300;
        var b = x + 1 - a;
        var c = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < 10_000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }

        return Math.Exp(logPrefix) * h;
    }

    /// <summary>ln Γ(a) for a &gt; 0 (Lanczos, g = 7, n = 9).</summary>
    private static double LogGamma(double a)
    {
        double[] g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
        if (a < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
        a -= 1;
        var sum = g[0];
        for (var i = 1; i < g.Length; i++) sum += g[i] / (a + i);
        var t = a + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (a + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
