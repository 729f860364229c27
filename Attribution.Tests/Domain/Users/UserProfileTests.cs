using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using UserDecision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Users.UserVersion, Attribution.Domain.Users.UserChange>;

namespace Attribution.Tests.Domain.Users;

public class UserProfileTests
{
    private static readonly DateTimeOffset Jan1 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Feb1 = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);

    internal static UserProfile Profile(string? age = "25-34", string? gender = "female", string? country = "DE", string[]? interests = null, string? segment = "gold") =>
        UserProfile.TryCreate(age, gender, country, interests ?? ["travel"], segment, out var p, out var error) ? p : throw new ArgumentException(error);

    [Theory]
    [InlineData("34", null, null, null, "age_band")]
    [InlineData("1990-04-02", null, null, null, "age_band")]
    [InlineData(null, "f", null, null, "gender")]
    [InlineData(null, null, "Germany", null, "country")]
    [InlineData(null, null, "D1", null, "country")]
    [InlineData(null, null, null, "Gold Members", "segment")]
    public void Given_raw_values_instead_of_bands_when_a_profile_is_made_then_it_is_refused_naming_the_field(
        string? age, string? gender, string? country, string? segment, string field)
    {
        Assert.False(UserProfile.TryCreate(age, gender, country, [], segment, out _, out var error));
        Assert.StartsWith(field, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_an_interest_that_is_not_a_label_or_too_many_interests_then_the_profile_is_refused()
    {
        Assert.False(UserProfile.TryCreate(null, null, null, ["likes hiking, skiing"], null, out _, out _));
        Assert.False(UserProfile.TryCreate(null, null, null, Enumerable.Range(0, 21).Select(i => $"i{i}").ToArray(), null, out _, out var error));
        Assert.Contains("at most 20", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_the_same_bands_spelled_differently_then_the_profiles_are_equal_and_interests_sorted_and_distinct()
    {
        var a = Profile("25-34", "Female", "de", ["Travel", "cooking", "travel"], "Gold");
        var b = Profile("25-34", "female", "DE", ["cooking", "travel"], "gold");

        Assert.Equal(a, b);
        Assert.Equal(["cooking", "travel"], a.Interests.ToArray());
        Assert.Equal("DE", a.Country);
    }

    [Fact]
    public void Given_blank_bands_then_they_are_not_known()
    {
        Assert.True(UserProfile.TryCreate(" ", "", null, null, "  ", out var p, out _));
        Assert.Equal(UserProfile.Empty, p);
    }

    [Fact]
    public void Given_a_current_profile_when_the_same_bands_arrive_later_then_no_version_opens()
    {
        var current = new UserVersion(1, "u-1", Profile(), Jan1, Scd2.OpenEnd, IsCurrent: true);

        var decision = Scd2.Decide(current, new UserChange("u-1", Feb1, Profile(interests: ["Travel"])), () => throw new InvalidOperationException("no key needed"));

        Assert.Equal(new UserDecision.Unchanged(current), decision);
    }

    [Fact]
    public void Given_a_current_profile_when_a_band_changes_then_it_closes_at_the_effective_time_and_the_new_one_opens_there()
    {
        var current = new UserVersion(1, "u-1", Profile(), Jan1, Scd2.OpenEnd, IsCurrent: true);

        var superseded = Assert.IsType<UserDecision.Superseded>(Scd2.Decide(current, new UserChange("u-1", Feb1, Profile(age: "35-44")), () => 2));

        Assert.Equal(current with { EndTs = Feb1, IsCurrent = false }, superseded.Closed);
        Assert.Equal(new UserVersion(2, "u-1", Profile(age: "35-44"), Feb1, Scd2.OpenEnd, true), superseded.Opened);
    }

    [Fact]
    public void Given_a_profile_that_leaves_a_band_out_then_the_band_is_no_longer_known_in_the_new_version()
    {
        var current = new UserVersion(1, "u-1", Profile(), Jan1, Scd2.OpenEnd, IsCurrent: true);

        var superseded = Assert.IsType<UserDecision.Superseded>(Scd2.Decide(current, new UserChange("u-1", Feb1, Profile(segment: null)), () => 2));

        Assert.Null(superseded.Opened.Profile.Segment);
        Assert.Equal("gold", superseded.Closed.Profile.Segment);
    }

    [Fact]
    public void Given_a_profile_dated_before_the_current_version_then_it_is_rejected_and_history_is_kept()
    {
        var current = new UserVersion(1, "u-1", Profile(), Feb1, Scd2.OpenEnd, IsCurrent: true);

        var rejected = Assert.IsType<UserDecision.Rejected>(Scd2.Decide(current, new UserChange("u-1", Jan1, Profile(age: "65+")), () => 2));

        Assert.Contains("before the current version's start", rejected.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("interest", null, new[] { "unknown" })]
    [InlineData("age_band", null, new[] { "unknown" })]
    public void Given_no_profile_at_the_impression_time_then_every_group_is_unknown(string dimension, string? unused, string[] groups)
    {
        Assert.Null(unused);
        Assert.Equal(groups, Audience.GroupsOf(null, dimension));
    }

    [Fact]
    public void Given_a_profile_then_an_impression_counts_in_each_of_its_interests_and_an_absent_band_is_unknown()
    {
        var p = Profile(gender: null, interests: ["travel", "cooking"]);

        Assert.Equal(["cooking", "travel"], Audience.GroupsOf(p, "interest"));
        Assert.Equal(["unknown"], Audience.GroupsOf(p, "gender"));
        Assert.Equal(["unknown"], Audience.GroupsOf(Profile(interests: []), "interest"));
    }

    [Theory]
    [InlineData("age_band,gender,segment,interest", true)]
    [InlineData("", true)]
    [InlineData("age_band,age_band", false)]
    [InlineData("birth_date", false)]
    public void Group_by_takes_each_audience_dimension_at_most_once(string text, bool valid)
    {
        Assert.Equal(valid, Audience.TryParseGroupBy(text, out _, out var error));
        Assert.Equal(valid, error is null);
    }
}
