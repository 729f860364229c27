using System.Net;
using Attribution.Domain.Fraud;

namespace Attribution.Tests.Domain.Fraud;

public class FraudRuleTests
{
    private static readonly DateTime T0 = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("Mozilla/5.0 (compatible; Googlebot/2.1)", true)]
    [InlineData("python-requests/2.31", true)]
    [InlineData("Mozilla/5.0 HeadlessChrome/120.0", true)]
    [InlineData("", true)]
    [InlineData("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", false)]
    [InlineData(null, false)]
    public void A_user_agent_is_a_bot_when_empty_or_holding_a_pattern_and_absent_is_not_judged(string? agent, bool bot) =>
        Assert.Equal(bot, BotUserAgent.Flags(agent, FraudSettings.DefaultBotPatterns));

    [Fact]
    public void An_address_inside_a_blocklisted_range_is_flagged_in_either_family()
    {
        Assert.True(FraudSettings.TryParseBlocklist(["203.0.113.0/24", "2001:db8::/32", "192.0.2.7"], out var list, out _));
        Assert.True(BlocklistedIp.Flags("203.0.113.250", list));
        Assert.True(BlocklistedIp.Flags("2001:db8:1::9", list));
        Assert.True(BlocklistedIp.Flags("192.0.2.7", list));
        Assert.False(BlocklistedIp.Flags("192.0.2.8", list));
        Assert.False(BlocklistedIp.Flags("203.0.114.1", list));
        Assert.False(BlocklistedIp.Flags(null, list));
    }

    [Theory]
    [InlineData("10.0.0.1/8")]
    [InlineData("203.0.113.0/33")]
    [InlineData("not-a-range")]
    [InlineData("")]
    public void A_blocklist_entry_that_is_no_range_is_refused_with_its_position(string entry)
    {
        Assert.False(FraudSettings.TryParseBlocklist(["198.51.100.0/24", entry], out _, out var error));
        Assert.StartsWith("cidrs[1]", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DE", "US", true)]
    [InlineData("us", "US", false)]
    [InlineData(null, "US", false)]
    [InlineData("DE", null, false)]
    public void A_click_from_another_country_than_its_impression_is_a_geo_mismatch(string? click, string? impression, bool flagged) =>
        Assert.Equal(flagged, GeoMismatch.Flags(click, impression));

    [Fact]
    public void A_conversion_within_10_seconds_of_its_click_is_too_fast_and_at_10_it_is_not()
    {
        Assert.True(ClickToConversionTooFast.Flags(T0.AddSeconds(9.999), T0, FraudSettings.Default));
        Assert.False(ClickToConversionTooFast.Flags(T0.AddSeconds(10), T0, FraudSettings.Default));
    }

    [Fact]
    public void Rule_names_round_trip_on_the_wire()
    {
        foreach (var rule in Enum.GetValues<FraudRule>()) Assert.Equal(rule, FraudRules.TryParse(rule.ToWire().ToLowerInvariant()));
        Assert.Null(FraudRules.TryParse("NOPE"));
    }

    [Fact]
    public void Settings_out_of_range_are_refused()
    {
        Assert.Null(FraudSettings.Check(100, ["bot"], 10, 20));
        Assert.NotNull(FraudSettings.Check(0, null, null, null));
        Assert.NotNull(FraudSettings.Check(null, [" "], null, null));
        Assert.NotNull(FraudSettings.Check(null, null, -1, null));
        Assert.NotNull(FraudSettings.Check(null, null, null, 0));
    }
}
