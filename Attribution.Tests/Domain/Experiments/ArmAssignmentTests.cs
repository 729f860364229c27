using Attribution.Domain.Experiments;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Experiments;

public class ArmAssignmentTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(200);

    private static Experiment Test(string id, params double[] weights) =>
        new(id, "camp-1", weights.Select((w, i) => new ExperimentArm($"cr-{i}", w)).ToList(), DateTime.UnixEpoch, null, 0.05, 0.1);

    [Fact]
    public void A_user_gets_the_same_arm_every_time_and_the_hash_is_fixed_across_builds()
    {
        var test = Test("exp-hash", 1, 1);
        // SHA-256("exp-hash\0user-42"): a build that hashed differently would move every running user.
        Assert.Equal(ArmAssignment.Assign(test, "user-42"), ArmAssignment.Assign(test, "user-42"));
        Assert.Equal(0.5029912313368825, ArmAssignment.Fraction("exp-hash", "user-42"), 1e-15);
    }

    [Fact]
    public void Each_arm_gets_its_weights_share_of_users()
    {
        Seeded.Run(seed =>
        {
            var test = Test($"exp-{seed}", 1, 3, 6);
            var counts = Enumerable.Range(0, 20_000).Select(u => ArmAssignment.Assign(test, $"u-{u}").CreativeId).CountBy(c => c).ToDictionary();
            // Binomial standard deviations at 20,000 users: 42, 65, 69; five of them is far beyond chance.
            Assert.InRange(counts["cr-0"], 2_000 - 212, 2_000 + 212);
            Assert.InRange(counts["cr-1"], 6_000 - 324, 6_000 + 324);
            Assert.InRange(counts["cr-2"], 12_000 - 346, 12_000 + 346);
        });
    }

    [Fact]
    public void Two_experiments_split_the_same_users_independently()
    {
        var a = Test("exp-a", 1, 1);
        var b = Test("exp-b", 1, 1);
        var same = Enumerable.Range(0, 10_000).Count(u => ArmAssignment.Assign(a, $"u-{u}").CreativeId == ArmAssignment.Assign(b, $"u-{u}").CreativeId);
        Assert.InRange(same, 5_000 - 250, 5_000 + 250);
    }

    [Fact]
    public void The_arm_is_always_one_of_the_experiments_and_the_fraction_stays_below_1() =>
        Seeded.Check(Runs, Prop.ForAll(
            (from id in ArbMap.Default.GeneratorFor<NonNull<string>>()
             from user in ArbMap.Default.GeneratorFor<NonNull<string>>()
             from weights in Gen.Choose(1, 1000).ArrayOf().Where(w => w.Length is >= 2 and <= 20)
             select (Id: id.Get, User: user.Get, Weights: weights)).ToArbitrary(),
            input =>
            {
                var test = Test(input.Id, [.. input.Weights.Select(w => (double)w)]);
                var fraction = ArmAssignment.Fraction(input.Id, input.User);
                Assert.InRange(fraction, 0.0, Math.BitDecrement(1.0));
                Assert.Contains(ArmAssignment.Assign(test, input.User), test.Arms);
            }));
}
