using Attribution.Domain.Experiments;

namespace Attribution.Tests.Domain.Experiments;

/// <summary>Against table values (Abramowitz and Stegun; the chi-square 5 % critical values).</summary>
public class DistributionsTests
{
    [Theory]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.9, 0.0072095707647425325)]
    [InlineData(2.1, 0.002979466656332984)]
    [InlineData(3.0, 2.2090496998585438e-05)]
    [InlineData(6.0, 2.1519736712498916e-17)]
    public void Erfc_matches_the_table_on_both_sides_of_the_series_and_fraction_split(double x, double expected)
    {
        Assert.Equal(expected, Distributions.Erfc(x), expected * 1e-13);
        Assert.Equal(2 - expected, Distributions.Erfc(-x), 1e-15);
    }

    [Fact]
    public void The_normal_cdf_and_its_quantile_give_the_familiar_1_96()
    {
        Assert.Equal(0.9750021048517795, Distributions.NormalCdf(1.96), 1e-15);
        Assert.Equal(1.9599639845400536, Distributions.NormalQuantile(0.975), 1e-13);
        Assert.Equal(0.8416212335729144, Distributions.NormalQuantile(0.80), 1e-13);
        Assert.Equal(-2.3263478740408408, Distributions.NormalQuantile(0.01), 1e-12);
        Assert.Equal(0.04999579029644087, Distributions.TwoSidedP(1.96), 1e-15);
    }

    [Theory]
    [InlineData(0.001)]
    [InlineData(0.02)]
    [InlineData(0.3)]
    [InlineData(0.5)]
    [InlineData(0.77)]
    [InlineData(0.999999)]
    public void The_quantile_inverts_the_cdf(double p) =>
        Assert.Equal(p, Distributions.NormalCdf(Distributions.NormalQuantile(p)), p * 1e-12);

    [Theory]
    [InlineData(3.841458820694124, 1)]
    [InlineData(5.991464547107979, 2)]
    [InlineData(7.814727903251178, 3)]
    [InlineData(18.307038053275146, 10)]
    public void The_chi_square_5_percent_critical_values_leave_5_percent(double x, int df) =>
        Assert.Equal(0.05, Distributions.ChiSquareSurvival(x, df), 1e-12);

    [Theory]
    [InlineData(0.3)]
    [InlineData(4.0)]
    [InlineData(40.0)]
    public void Two_degrees_of_freedom_is_the_exponential_and_one_is_erfc(double x)
    {
        Assert.Equal(Math.Exp(-x / 2), Distributions.ChiSquareSurvival(x, 2), Math.Exp(-x / 2) * 1e-12);
        Assert.Equal(Distributions.Erfc(Math.Sqrt(x / 2)), Distributions.ChiSquareSurvival(x, 1), Distributions.Erfc(Math.Sqrt(x / 2)) * 1e-11);
    }
}
