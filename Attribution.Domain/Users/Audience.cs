using Attribution.Domain.Dimensions;

namespace Attribution.Domain.Users;

/// <summary>
/// Audience analysis (design 000 §3.3, dim_users): impressions grouped by the bands of the user version valid at
/// their impression time. The grouping rules live here; the queries and the tests follow them.
/// </summary>
public static class Audience
{
    /// <summary>The bands an audience can be grouped by, as group_by and the answer's keys spell them.</summary>
    public static IReadOnlyList<string> Dimensions { get; } = ["age_band", "gender", "country", "segment", "interest"];

    /// <summary>Parses group_by: a comma-separated subset of <see cref="Dimensions"/>, each once, in the order given.</summary>
    public static bool TryParseGroupBy(string? text, out IReadOnlyList<string> dimensions, out string? error)
    {
        var parsed = new List<string>();
        dimensions = parsed;
        error = null;
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Dimensions.Contains(part, StringComparer.Ordinal))
                error = $"group_by may hold {string.Join(", ", Dimensions)}; '{part}' is none of them";
            else if (parsed.Contains(part, StringComparer.Ordinal))
                error = $"group_by names '{part}' twice";
            if (error is not null) return false;
            parsed.Add(part);
        }

        return true;
    }

    /// <summary>
    /// The groups one impression counts in for one dimension. Design rule "users without a profile fall in unknown"
    /// (issue 21): no version valid at the impression time, or an absent band, is <see cref="UserProfile.Unknown"/>.
    /// An impression counts once in each of its user's interests, so interest groups overlap and do not sum to the total.
    /// </summary>
    public static IReadOnlyList<string> GroupsOf(UserProfile? profile, string dimension) => dimension switch
    {
        "age_band" => [profile?.AgeBand ?? UserProfile.Unknown],
        "gender" => [profile?.Gender ?? UserProfile.Unknown],
        "country" => [profile?.Country ?? UserProfile.Unknown],
        "segment" => [profile?.Segment ?? UserProfile.Unknown],
        "interest" => profile is null || profile.Interests.IsEmpty ? [UserProfile.Unknown] : profile.Interests,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "not an audience dimension"),
    };

    /// <summary>
    /// The earliest impression time whose group a dim_users write can change (the audience cube refreshes its days from
    /// there on). An opened or corrected version changes its whole validity; a closed one only what follows its end, unless
    /// the same merge corrected it first (a change at its very start, <paramref name="changeInstants"/>).
    /// </summary>
    public static DateTimeOffset RegroupsFrom(Scd2Write<UserVersion> write, IReadOnlySet<(string UserId, DateTimeOffset At)> changeInstants)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(changeInstants);
        var row = write.Row;
        return write.Kind == Scd2WriteKind.Close && !changeInstants.Contains((row.UserId, row.StartTs)) ? row.EndTs : row.StartTs;
    }
}
