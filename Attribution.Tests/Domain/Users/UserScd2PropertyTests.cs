using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Users;

/// <summary>dim_users follows the shared SCD2 rule: the properties dim_campaigns has, on user profiles.</summary>
public class UserScd2PropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly DateTimeOffset Base = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Users = ["u-1", "u-2", "u-3"];

    // Few bands, so unchanged profiles and same-instant profiles are common.
    private static readonly Gen<UserChange> ChangeGen =
        from user in Gen.Elements(Users)
        from hour in Gen.Choose(0, 12)
        from age in Gen.Elements<string?>(null, "18-24", "25-34")
        from interests in Gen.Elements<string[]>([], ["travel"], ["Travel", "cooking"], ["cooking", "travel"])
        from sequence in Gen.Choose(0, 3)
        select new UserChange(user, Base.AddHours(hour), UserProfileTests.Profile(age: age, interests: interests), sequence);

    private static readonly Gen<UserChange[]> ChangesGen = Gen.Choose(0, 25).SelectMany(n => Gen.ArrayOf(ChangeGen, n));

    /// <summary>Applies a merge's writes as the database would.</summary>
    private static List<UserVersion> Apply(IEnumerable<UserVersion> table, Scd2MergeResult<UserVersion, UserChange> result)
    {
        var rows = table.ToDictionary(v => v.UserKey);
        foreach (var write in result.Writes) rows[write.Row.UserKey] = write.Row;
        return [.. rows.Values];
    }

    [Fact]
    public void Any_sequence_of_batches_leaves_a_history_with_no_gap_no_overlap_one_current_version_and_no_write_for_unchanged_profiles()
    {
        var batches = Gen.ListOf(ChangesGen.Select(c => c.Take(8).ToArray())).Select(b => b.Take(5).ToList());

        Seeded.Check(Runs, Prop.ForAll(batches.ToArbitrary(), sequence =>
        {
            long next = 1;
            var table = new List<UserVersion>();
            foreach (var batch in sequence)
            {
                var result = Scd2.Merge(table.Where(v => v.IsCurrent), batch, () => next++);
                table = Apply(table, result);
                // Sending the current profiles again, later, changes nothing.
                var again = Scd2.Merge(table.Where(v => v.IsCurrent), table.Where(v => v.IsCurrent)
                    .Select(v => new UserChange(v.UserId, Base.AddHours(20), v.Profile)), () => next++);
                Assert.Empty(again.Writes);
            }

            Assert.Empty(Scd2.CheckHistory(table));
        }));
    }

    [Fact]
    public void One_merge_gives_at_every_instant_the_last_profile_sent_for_that_instant_or_before()
    {
        Seeded.Check(Runs, Prop.ForAll(ChangesGen.ToArbitrary(), changes =>
        {
            long next = 1;
            var history = Apply([], Scd2.Merge(Array.Empty<UserVersion>(), changes, () => next++));
            foreach (var user in Users)
            {
                for (var hour = -1; hour <= 13; hour++)
                {
                    var t = Base.AddHours(hour);
                    var last = changes.Select((c, i) => (c, i))
                        .Where(x => x.c.UserId == user && x.c.EffectiveAt <= t)
                        .OrderBy(x => x.c.EffectiveAt).ThenBy(x => x.c.Sequence).ThenBy(x => x.i)
                        .Select(x => x.c.Profile).LastOrDefault();
                    Assert.Equal(last, Scd2.VersionAt(history, user, t)?.Profile);
                }
            }
        }));
    }
}
