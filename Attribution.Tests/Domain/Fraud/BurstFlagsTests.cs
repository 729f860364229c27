using Attribution.Domain.Fraud;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Fraud;

/// <summary>The burst rules across impressions as the pipeline applies them: batch by batch, each deciding from the
/// windows of stored clicks it loads, re-flagging other impressions' clicks; the result must be the flags of the
/// whole set, whatever the order and batching.</summary>
public class BurstFlagsTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly DateTime T0 = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    private static JudgedClick Click(string id, string impression, string? ip, string? user, int second) =>
        new(id, impression, ip, user, T0.AddSeconds(second));

    [Fact]
    public void Given_a_click_in_both_bursts_then_it_carries_both_rules()
    {
        var settings = FraudSettings.Default with { ClicksPerIpPerMinute = 1, ClicksPerUserPerMinute = 1 };
        var flags = BurstFlags.Of([Click("a", "i1", "1.1.1.1", "u", 0), Click("b", "i2", "1.1.1.1", "u", 10), Click("c", "i3", "2.2.2.2", "u", 20)], settings);

        Assert.Equal([FraudRule.ClickFlooding, FraudRule.UserClickVelocity], flags["b"]);
        Assert.Equal([FraudRule.UserClickVelocity], flags["c"]);
        Assert.False(flags.ContainsKey("a"));
    }

    [Fact]
    public void Given_a_new_click_then_the_windows_reach_a_minute_back_for_all_and_a_minute_ahead_for_it()
    {
        var windows = BurstFlags.Windows([Click("a", "i1", "1.1.1.1", null, 100)], [Click("b", "i2", "1.1.1.1", "u", 30)]);

        Assert.Equal(
            [new BurstWindow(BurstKey.IpAddress, "1.1.1.1", T0.AddSeconds(-30), T0.AddSeconds(100)), new BurstWindow(BurstKey.UserId, "u", T0.AddSeconds(-30), T0.AddSeconds(90))],
            windows);
    }

    [Fact]
    public void Given_a_late_click_that_pushes_an_address_over_its_limit_then_the_later_click_of_another_impression_is_reflagged()
    {
        var settings = FraudSettings.Default with { ClicksPerIpPerMinute = 3 };
        List<JudgedClick> stored = [Click("c0", "i0", "9.9.9.9", null, 0), Click("c10", "i1", "9.9.9.9", null, 10), Click("c20", "i2", "9.9.9.9", null, 20)];
        var late = Click("c5", "i3", "9.9.9.9", null, 5);

        var reflagged = BurstFlags.Reflagged([.. stored, late], new HashSet<string> { "c5" }, settings);

        Assert.Equal(["c20"], reflagged.Select(c => c.EventId));
    }

    [Fact]
    public void Applied_batch_by_batch_in_any_order_the_flags_are_those_of_the_whole_set() =>
        Seeded.Check(Runs, Prop.ForAll(
            (from n in Gen.Choose(1, 50)
             from clicks in Gen.ListOf(
                 from ip in Gen.Elements<string?>("a", "b", null)
                 from user in Gen.Elements<string?>("u1", "u2", null)
                 from impression in Gen.Choose(0, 9)
                 from second in Gen.Choose(0, 240)
                 select (ip, user, impression, second), n)
             from ipLimit in Gen.Choose(1, 5)
             from userLimit in Gen.Choose(1, 5)
             from seed in Gen.Choose(0, int.MaxValue)
             select (Clicks: clicks.Where(c => c.ip is not null || c.user is not null)
                         .Select((c, i) => Click($"e{i}", $"i{c.impression}", c.ip, c.user, c.second)).ToList(),
                     Settings: FraudSettings.Default with { ClicksPerIpPerMinute = ipLimit, ClicksPerUserPerMinute = userLimit },
                     Seed: seed)).ToArbitrary(),
            input =>
            {
                var random = new Random(input.Seed);
                var arrival = input.Clicks.OrderBy(_ => random.Next()).ToList();
                var stored = new List<JudgedClick>();
                var decided = new Dictionary<string, FraudRule[]?>(StringComparer.Ordinal);
                List<JudgedClick> Load(List<BurstWindow> windows) => [.. stored.Where(c => windows.Any(w =>
                    (w.Kind == BurstKey.IpAddress ? c.IpAddress : c.UserId) == w.Key && c.EventTime >= w.From && c.EventTime <= w.To))];
                void Decide(IEnumerable<JudgedClick> clicks, Dictionary<string, FraudRule[]> flags)
                {
                    foreach (var c in clicks) decided[c.EventId] = flags.GetValueOrDefault(c.EventId);
                }

                for (var at = 0; at < arrival.Count;)
                {
                    var batch = arrival.Skip(at).Take(random.Next(1, 6)).ToList();
                    at += batch.Count;
                    var touched = batch.Select(c => c.ImpressionId).ToHashSet();
                    var folded = stored.Where(c => touched.Contains(c.ImpressionId)).Concat(batch).ToList();
                    stored.AddRange(batch);
                    var loaded = Load(BurstFlags.Windows(folded, batch));
                    Decide(folded, BurstFlags.Of(loaded, input.Settings));
                    var joined = BurstFlags.Reflagged(loaded, batch.Select(c => c.EventId).ToHashSet(), input.Settings)
                        .Select(c => c.ImpressionId).Where(i => !touched.Contains(i)).ToHashSet();
                    var theirs = stored.Where(c => joined.Contains(c.ImpressionId)).ToList();
                    Decide(theirs, BurstFlags.Of(Load(BurstFlags.Windows(theirs, [])), input.Settings));
                }

                var whole = BurstFlags.Of(input.Clicks, input.Settings);
                foreach (var c in input.Clicks) Assert.Equal(whole.GetValueOrDefault(c.EventId), decided[c.EventId]);
            }));
}
