using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Users;

/// <summary>The audience cube's rules: which parts of a range it (or its facts) answers, and which days a profile change
/// dirties.</summary>
public class AudienceCubeRuleTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(500);
    private static readonly DateTime Day0 = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly DateTimeOffset Base = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Built days among the first ten, a few dirty hours, sometimes a regroup: the cube's state between refreshes.</summary>
    private static readonly Gen<AudienceFreshness> FreshnessGen =
        from built in Gen.ListOf(Gen.Choose(-1, 10))
        from dirty in Gen.ListOf(Gen.Choose(0, 10 * 24))
        from regrouped in Gen.Choose(-1, 10 * 24 * 60)
        select new AudienceFreshness(built.Select(d => DateOnly.FromDateTime(Day0.AddDays(d))).ToHashSet(),
            dirty.Select(h => Day0.AddHours(h)).ToHashSet(), regrouped < 0 ? null : Day0.AddMinutes(regrouped));

    [Fact]
    public void An_hour_is_clean_when_its_day_is_built_and_nothing_in_it_changed_or_regroups_it()
    {
        var fresh = new AudienceFreshness(new HashSet<DateOnly> { DateOnly.FromDateTime(Day0) }, new HashSet<DateTime> { Day0.AddHours(3) },
            Day0.AddHours(20).AddMinutes(30));
        Assert.True(fresh.IsClean(Day0.AddHours(2)));
        Assert.False(fresh.IsClean(Day0.AddHours(3))); // a Gold row of it changed
        Assert.True(fresh.IsClean(Day0.AddHours(19)));
        Assert.False(fresh.IsClean(Day0.AddHours(20))); // a profile change regroups from its middle
        Assert.False(fresh.IsClean(Day0.AddDays(1))); // not built
        Assert.False(fresh.IsClean(DateOnly.FromDateTime(Day0)));
        Assert.True(fresh with { DirtyHours = new HashSet<DateTime>(), RegroupedFrom = null } is var clean && clean.IsClean(DateOnly.FromDateTime(Day0)));
    }

    [Fact]
    public void The_cube_buckets_and_the_live_ranges_cover_the_range_exactly_once_and_buckets_are_clean()
    {
        var cases =
            from fromMinute in Gen.Choose(0, 5 * 1440)
            from length in Gen.Choose(0, 4 * 1440)
            from oneCampaign in Gen.Elements(true, false)
            from covered in Gen.Elements(true, false)
            from fresh in FreshnessGen
            select (From: Day0.AddMinutes(fromMinute), To: Day0.AddMinutes(fromMinute + length), oneCampaign, covered, Fresh: fresh);
        Seeded.Check(Runs, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var plan = AudiencePlan.For(c.From, c.To, c.oneCampaign, c.covered, c.Fresh);
            var step = c.oneCampaign ? TimeSpan.FromDays(1) : TimeSpan.FromHours(1);
            bool Clean(DateTime b) => c.oneCampaign ? c.Fresh.IsClean(DateOnly.FromDateTime(b)) : c.Fresh.IsClean(b);
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
                Assert.True(Clean(b));
                // Each hour of a bucket is clean on its own: no change in it, none regrouping it.
                for (var h = b; h < b + step; h += TimeSpan.FromHours(1))
                {
                    Assert.DoesNotContain(h, c.Fresh.DirtyHours);
                    Assert.True(c.Fresh.RegroupedFrom is null || h.AddHours(1) <= c.Fresh.RegroupedFrom);
                }
            });
            if (!c.covered) Assert.Empty(plan.CubeBuckets);
            // Live ranges are as few as can be: none touches another.
            Assert.All(plan.Live.Zip(plan.Live.Skip(1)), p => Assert.True(p.First.To < p.Second.From));
            // A whole clean bucket inside the range is never read live.
            for (var b = new DateTime(c.From.Ticks - c.From.Ticks % step.Ticks, DateTimeKind.Utc); b + step <= c.To; b += step)
            {
                if (b >= c.From && Clean(b) && c.covered) Assert.Contains(b, plan.CubeBuckets);
            }
        }));
    }

    [Fact]
    public void The_facts_and_the_live_ranges_cover_the_range_exactly_once_and_the_facts_only_clean_hours()
    {
        var cases =
            from fromMinute in Gen.Choose(0, 5 * 1440)
            from length in Gen.Choose(0, 4 * 1440)
            from fresh in FreshnessGen
            select (From: Day0.AddMinutes(fromMinute), To: Day0.AddMinutes(fromMinute + length), Fresh: fresh);
        Seeded.Check(Runs, Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var plan = AudiencePlan.ForRows(c.From, c.To, c.Fresh);
            var at = c.From;
            foreach (var (from, to) in plan.Facts.Concat(plan.Live).OrderBy(p => p.From))
            {
                Assert.Equal(at, from);
                Assert.True(to > from);
                at = to;
            }

            Assert.Equal(c.From < c.To ? c.To : c.From, at);
            for (var minute = c.From; minute < c.To; minute = minute.AddMinutes(37))
            {
                var fromFacts = plan.Facts.Any(r => r.From <= minute && minute < r.To);
                Assert.Equal(c.Fresh.IsClean(AudienceFreshness.HourOf(minute)), fromFacts);
            }

            Assert.All(plan.Facts.Zip(plan.Facts.Skip(1)), p => Assert.True(p.First.To < p.Second.From));
            Assert.All(plan.Live.Zip(plan.Live.Skip(1)), p => Assert.True(p.First.To < p.Second.From));
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
