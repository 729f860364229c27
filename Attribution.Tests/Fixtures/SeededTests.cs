using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Fixtures;

/// <summary>The seed a random test prints is the one that replays it.</summary>
public sealed class SeededTests
{
    private static List<int> Cases(int seed, out SeededFailure failure)
    {
        var seen = new List<int>();
        failure = Assert.Throws<SeededFailure>(() => Seeded.Check(Config.QuickThrowOnFailure.WithMaxTest(50), Prop.ForAll(
            ArbMap.Default.ArbFor<int>(), i =>
            {
                seen.Add(i);
                return seen.Count < 10;
            }), seed));
        return seen;
    }

    [Fact]
    public void A_failing_property_names_its_seed_and_that_seed_replays_the_same_cases()
    {
        var first = Cases(12345, out var failure);
        var again = Cases(12345, out _);
        var other = Cases(54321, out _);

        Assert.Equal(12345, failure.Seed);
        Assert.Contains("ATTRIBUTION_TEST_SEED=12345", failure.Message, StringComparison.Ordinal);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }
}
