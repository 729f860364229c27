using Attribution.Domain.Fraud;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Fraud;

public class ClickBurstTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly DateTime T0 = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly FraudSettings Settings = FraudSettings.Default;

    private static (string, string?, DateTime)[] Burst(string ip, int count, TimeSpan every, int from = 0) =>
        [.. Enumerable.Range(from, count).Select(i => ($"{ip}-c{i:D4}", (string?)ip, T0 + i * every))];

    [Fact]
    public void Given_150_clicks_of_one_address_in_a_minute_then_the_101st_and_later_are_flooding()
    {
        var flagged = ClickFlooding.Flags(Burst("203.0.113.5", 150, TimeSpan.FromMilliseconds(300)), Settings);

        Assert.Equal(50, flagged.Count);
        Assert.DoesNotContain("203.0.113.5-c0099", flagged);
        Assert.Contains("203.0.113.5-c0100", flagged);
    }

    [Fact]
    public void Given_100_clicks_a_minute_for_an_hour_then_none_is_flooding_and_other_addresses_do_not_count()
    {
        var steady = Burst("203.0.113.5", 6_000, TimeSpan.FromMilliseconds(601));
        var others = Enumerable.Range(0, 500).Select(i => ($"x-{i}", (string?)$"198.51.100.{i % 250}", T0 + TimeSpan.FromMilliseconds(i)));
        Assert.Empty(ClickFlooding.Flags([.. steady, .. others], Settings));
    }

    [Fact]
    public void Given_the_window_boundary_then_a_click_exactly_60_s_earlier_is_inside_and_one_later_is_outside()
    {
        var settings = Settings with { ClicksPerIpPerMinute = 1 };
        Assert.Equal(["b"], ClickFlooding.Flags([("a", "1.1.1.1", T0), ("b", "1.1.1.1", T0.AddSeconds(60))], settings));
        Assert.Empty(ClickFlooding.Flags([("a", "1.1.1.1", T0), ("b", "1.1.1.1", T0.AddSeconds(60).AddTicks(10))], settings));
        // Same instant: each is in the other's window.
        Assert.Equal(["a", "b"], ClickFlooding.Flags([("a", "1.1.1.1", T0), ("b", "1.1.1.1", T0)], settings).Order());
    }

    [Fact]
    public void Given_clicks_without_an_address_or_a_user_then_they_are_not_judged()
    {
        var anonymous = Enumerable.Range(0, 300).Select(i => ($"n-{i}", (string?)null, T0)).ToList();
        Assert.Empty(ClickFlooding.Flags(anonymous, Settings));
        Assert.Empty(UserClickVelocity.Flags(anonymous, Settings));
    }

    [Fact]
    public void Given_21_clicks_of_one_user_in_a_minute_then_the_21st_is_velocity()
    {
        var clicks = Enumerable.Range(0, 21).Select(i => ($"u-c{i:D2}", (string?)"u-1", T0.AddSeconds(i * 2))).ToList();
        Assert.Equal(["u-c20"], UserClickVelocity.Flags(clicks, Settings));
    }

    [Fact]
    public void The_flags_depend_on_the_set_of_clicks_only_and_match_the_rules_definition() =>
        Seeded.Check(Runs, Prop.ForAll(
            (from n in Gen.Choose(0, 60)
             from clicks in Gen.ListOf(
                 from ip in Gen.Elements("a", "b", "c")
                 from second in Gen.Choose(0, 240)
                 select (ip, second), n)
             from limit in Gen.Choose(1, 6)
             from seed in Gen.Choose(0, int.MaxValue)
             select (Clicks: clicks.Select((c, i) => ($"e{i}", (string?)c.ip, T0.AddSeconds(c.second))).ToArray(), Limit: limit, Seed: seed)).ToArbitrary(),
            input =>
            {
                var settings = Settings with { ClicksPerIpPerMinute = input.Limit };
                var shuffled = input.Clicks.OrderBy(_ => new Random(input.Seed).Next()).ToArray();
                var flags = ClickFlooding.Flags(input.Clicks, settings);

                Assert.Equal(flags.Order(), ClickFlooding.Flags(shuffled, settings).Order());
                // A late click arriving again (a redelivery) changes nothing either.
                Assert.Equal(flags.Order(), ClickFlooding.Flags([.. input.Clicks, .. input.Clicks.Take(3)], settings).Order());
                var byDefinition = input.Clicks.Where(c => input.Clicks.Count(o => o.Item2 == c.Item2 && o.Item3 <= c.Item3 && o.Item3 >= c.Item3.AddSeconds(-60)) > input.Limit)
                    .Select(c => c.Item1).Order();
                Assert.Equal(byDefinition, flags.Order());
            }));
}
