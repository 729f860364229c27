using Attribution.Domain.Attribution;

namespace Attribution.Tests.Domain;

public class ExplainerTests
{
    [Theory]
    [InlineData(0.4, "0 s")]
    [InlineData(59, "59 s")]
    [InlineData(252, "4 m 12 s")]
    [InlineData(3 * 3600 + 5 * 60, "3 h 5 m")]
    [InlineData(8 * 86400, "8 d 0 h")]
    [InlineData(-90, "-1 m 30 s")]
    public void Durations_read_as_their_two_largest_units(double seconds, string text) =>
        Assert.Equal(text, Durations.Format(TimeSpan.FromSeconds(seconds)));
}
