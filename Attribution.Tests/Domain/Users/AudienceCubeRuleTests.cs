using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Users;

/// <summary>The audience cube's two rules: which parts of a range it answers, and which days a profile change dirties.</summary>
public class AudienceCubeRuleTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500);
    private static readonly DateTime Day0 = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset Base = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_cube_buckets_and_the_live_ranges_cover_the_range_exactly_once_and_buckets_lie_whole_in_clean_days()
    {
        var cases =
            from fromMinute in Gen.Choose(0, 5 * 1440)
            from length in Gen.Choose(0, 4 * 1440)
            from oneCampaign in Gen.Elements(true, false)
            from covered in Gen.Elements(true, false)
            from clean in Gen.ListOf(Gen.Choose(-1, 10))
            select (From: Day0.AddMinutes(fromMinute), To: Day0.AddMinutes(fromMinute + length), oneCampaign, covered,
                Clean: clean.Select(d => DateOnly.FromDateTime(Day0.AddDays(d))).ToHashSet());
        Seeded.Check(Runs, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var plan = AudiencePlan.For(c.From, c.To, c.oneCampaign, c.covered, c.Clean);
            var step = c.oneCampaign ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
            var pieces = plan.CubeBuckets.Select(b => (From: b, To: b + step)).Concat(plan.Live).OrderBy(p => p.From).ToList();
            var at = c.From;
            foreach (var (from, to) in pieces)
            {
                Assert.Equal(at, from);
                Assert.True(to > from);
                at = to;
            }

            Assert.Equal(c.From < c.To ? c.To : c.From, at);
            Assert.All(plan.CubeBuckets, b =>
            {
                Assert.Equal(0, b.Ticks % step.Ticks);
                Assert.Contains(DateOnly.FromDateTime(b), c.Clean);
            });
            if (!c.covered) Assert.Empty(plan.CubeBuckets);
            // Live ranges are as few as can be: none touches another.
            Assert.All(plan.Live.Zip(plan.Live.Skip(1)), p => Assert.True(p.First.To < p.Second.From));
            // A whole clean bucket inside the range is never read live.
            for (var b = new DateTime(c.From.Ticks - c.From.Ticks % step.Ticks, DateTimeKind.Utc); b + step <= c.To; b += step)
            {
                if (b >= c.From && c.Clean.Contains(DateOnly.FromDateTime(b)) && c.covered)
                    Assert.Contains(b, plan.CubeBuckets);
            }
        }));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("segment", true)]
    [InlineData("interest", true)]
    [InlineData("age_band,gender", true)]
    [InlineData("country,segment", true)]
    [InlineData("interest,segment", false)]
    [InlineData("age_band,interest", false)]
    [InlineData("age_band,gender,segment", false)]
    public void The_cube_covers_up_to_two_bands_or_interest_alone(string groupBy, bool covered) =>
        Assert.Equal(covered, AudiencePlan.Covers(groupBy.Split(',', StringSplitOptions.RemoveEmptyEntries)));

    private static readonly string[] Users = ["u-1", "u-2"];

    private static readonly Gen<UserChange> ChangeGen =
        from user in Gen.Elements(Users)
        from hour in Gen.Choose(0, 12)
        from age in Gen.Elements<string?>(null, "18-24", "25-34")
        from interests in Gen.Elements<string[]>([], ["travel"], ["cooking", "travel"])
        from sequence in Gen.Choose(0, 3)
        select new UserChange(user, Base.AddHours(hour), UserProfileTests.Profile(age: age, interests: interests), sequence);

    [Fact]
    public void A_merge_changes_no_impressions_profile_before_the_earliest_instant_its_writes_regroup_from()
    {
        var batches = Gen.ListOf(Gen.ArrayOf(ChangeGen, 6)).Select(b => b.Take(4).ToList());
        Seeded.Check(Runs, Prop.ForAll(batches.ToArbitrary(), sequence =>
        {
            long next = 1;
            var table = new Dictionary<long, UserVersion>();
            foreach (var batch in sequence)
            {
                var before = table.Values.ToList();
                var result = Scd2.Merge(before.Where(v => v.IsCurrent), batch, () => next++);
                foreach (var write in result.Writes) table[write.Row.UserKey] = write.Row;
                var instants = batch.Select(c => (c.UserId, c.EffectiveAt)).ToHashSet();
                foreach (var user in Users)
                {
                    var regroups = result.Writes.Where(w => w.Row.UserId == user).Select(w => Audience.RegroupsFrom(w, instants)).DefaultIfEmpty(DateTimeOffset.MaxValue).Min();
                    for (var half = -2; half <= 28; half++)
                    {
                        var t = Base.AddMinutes(30 * half);
                        if (t >= regroups) continue;
                        Assert.Equal(Scd2.VersionAt(before, user, t)?.Profile, Scd2.VersionAt(table.Values, user, t)?.Profile);
                    }
                }
            }
        }));
    }
}
