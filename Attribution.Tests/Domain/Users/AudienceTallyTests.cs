using Attribution.Domain.Users;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Users;

/// <summary>The exact totals of groupings read row by row: one group per combination of codes, interests overlapping.</summary>
public class AudienceTallyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    [Fact]
    public void An_impression_counts_once_in_each_of_its_interests_and_its_user_once_per_group()
    {
        // Given: grouped by segment (codes 1, 2) and interest (codes 10, 11, 12)
        var tally = new AudienceTally(dimensions: 2, interestAt: 1);

        // When
        tally.Add([1, 0], [10, 11], user: 7, clicked: true, converted: false, costMicros: 1_500_000, revenueMicros: 0);
        tally.Add([1, 0], [10], user: 7, clicked: false, converted: true, costMicros: 250_000, revenueMicros: 9_990_000);
        tally.Add([2, 0], [12], user: null, clicked: false, converted: false, costMicros: 1, revenueMicros: 0);

        // Then
        var groups = tally.Groups().ToDictionary(g => (g.Codes[0], g.Codes[1]), g => g.Totals);
        Assert.Equal(3, groups.Count);
        Assert.Equal(new AudienceTotals(2, 1, 1, 1, 1.75m, 9.99m), groups[(1, 10)]);
        Assert.Equal(new AudienceTotals(1, 1, 1, 0, 1.5m, 0m), groups[(1, 11)]);
        Assert.Equal(new AudienceTotals(1, 0, 0, 0, 0.000001m, 0m), groups[(2, 12)]);
    }

    private sealed record Impression(int Band, int[] Interests, long? User, bool Clicked, bool Converted, long Cost, long Revenue);

    private static readonly Gen<Impression> ImpressionGen =
        from band in Gen.Choose(0, 3)
        from interests in Gen.Elements<int[]>([9], [4], [4, 5], [5, 6, 7])
        from user in Gen.Elements<long?>(null, 1, 2, 3, long.MaxValue, long.MinValue)
        from clicked in Gen.Elements(true, false)
        from converted in Gen.Elements(true, false)
        from cost in Gen.Choose(0, 5_000_000)
        from revenue in Gen.Choose(0, 50_000_000)
        select new Impression(band, interests, user, clicked, converted, cost, revenue);

    [Fact]
    public void Each_groups_totals_are_those_of_the_impressions_in_it_whichever_position_interest_takes()
    {
        var cases = from impressions in Gen.ListOf(ImpressionGen) from interestFirst in Gen.Elements(true, false) select (impressions, interestFirst);
        Seeded.Check(Runs, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var tally = new AudienceTally(2, c.interestFirst ? 0 : 1);
            foreach (var i in c.impressions)
                tally.Add(c.interestFirst ? [0, i.Band] : [i.Band, 0], i.Interests, i.User, i.Clicked, i.Converted, i.Cost, i.Revenue);
            var got = tally.Groups().ToDictionary(g => c.interestFirst ? (g.Codes[1], g.Codes[0]) : (g.Codes[0], g.Codes[1]), g => g.Totals);
            var want = c.impressions.SelectMany(i => i.Interests.Select(interest => (Key: (i.Band, interest), i)))
                .GroupBy(x => x.Key, x => x.i)
                .ToDictionary(g => g.Key, g => new AudienceTotals(g.Count(), g.Where(i => i.User is not null).Select(i => i.User).Distinct().Count(),
                    g.Count(i => i.Clicked), g.Count(i => i.Converted), g.Sum(i => (decimal)i.Cost) / 1_000_000m, g.Sum(i => (decimal)i.Revenue) / 1_000_000m));
            Assert.Equal(want.OrderBy(w => w.Key), got.OrderBy(g => g.Key));
        }));
    }

    [Fact]
    public void Two_tallies_added_together_total_as_one_tally_of_all_their_impressions_would()
    {
        var cases = from a in Gen.ListOf(ImpressionGen) from b in Gen.ListOf(ImpressionGen) select (a, b);
        Seeded.Check(Runs, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            // The second tally codes its bands +100 (codes of its own), translated back when added.
            var one = new AudienceTally(2, 1);
            var first = new AudienceTally(2, 1);
            var second = new AudienceTally(2, 1);
            foreach (var i in c.a)
            {
                one.Add([i.Band, 0], i.Interests, i.User, i.Clicked, i.Converted, i.Cost, i.Revenue);
                first.Add([i.Band, 0], i.Interests, i.User, i.Clicked, i.Converted, i.Cost, i.Revenue);
            }

            foreach (var i in c.b)
            {
                one.Add([i.Band, 0], i.Interests, i.User, i.Clicked, i.Converted, i.Cost, i.Revenue);
                second.Add([i.Band + 100, 0], i.Interests.Select(x => x + 100).ToArray(), i.User, i.Clicked, i.Converted, i.Cost, i.Revenue);
            }

            first.Add(second, code => code - 100);
            Assert.Equal(one.Groups().ToDictionary(g => (g.Codes[0], g.Codes[1]), g => g.Totals).OrderBy(g => g.Key),
                first.Groups().ToDictionary(g => (g.Codes[0], g.Codes[1]), g => g.Totals).OrderBy(g => g.Key));
        }));
    }

    [Fact]
    public void Without_interest_an_impression_counts_once_whatever_its_interests()
    {
        var tally = new AudienceTally(dimensions: 3, interestAt: -1);
        tally.Add([1, 2, 3], [4, 5], user: 1, clicked: false, converted: false, costMicros: 0, revenueMicros: 0);
        tally.Add([1, 2, 3], [], user: 2, clicked: false, converted: false, costMicros: 0, revenueMicros: 0);
        var group = Assert.Single(tally.Groups());
        Assert.Equal([1, 2, 3], group.Codes);
        Assert.Equal(2, group.Totals.Impressions);
        Assert.Equal(2, group.Totals.UniqueReach);
    }
}
