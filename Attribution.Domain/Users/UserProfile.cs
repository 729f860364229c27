using System.Collections.Immutable;

namespace Attribution.Domain.Users;

/// <summary>
/// A user's demographics as bands, never raw personal data (issue 21): an age band rather than a birth date or an
/// age, a country code rather than an address, interest and segment labels rather than browsing history. A null
/// band is "not known"; interests are sorted and distinct, so equal profiles compare equal.
/// </summary>
public sealed record UserProfile
{
    /// <summary>The age bands a profile may carry.</summary>
    public static ImmutableArray<string> AgeBands { get; } = ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"];

    /// <summary>The genders a profile may carry.</summary>
    public static ImmutableArray<string> Genders { get; } = ["female", "male", "other"];

    public const int MaxInterests = 20;

    public const int MaxLabelLength = 40;

    /// <summary>The group every absent band falls in, in the audience analysis and in dims exports' readers.</summary>
    public const string Unknown = "unknown";

    public static UserProfile Empty { get; } = new(null, null, null, [], null);

    private UserProfile(string? ageBand, string? gender, string? country, ImmutableArray<string> interests, string? segment)
    {
        AgeBand = ageBand;
        Gender = gender;
        Country = country;
        Interests = interests;
        Segment = segment;
    }

    public string? AgeBand { get; }

    public string? Gender { get; }

    /// <summary>ISO 3166-1 alpha-2, upper case.</summary>
    public string? Country { get; }

    public ImmutableArray<string> Interests { get; }

    public string? Segment { get; }

    /// <summary>
    /// Checks a profile as sent: age_band one of <see cref="AgeBands"/>, gender one of <see cref="Genders"/>, country two
    /// letters, interests and segment labels of lower-case letters, digits, '-' and '_' (at most 40 characters, at
    /// most 20 interests). Labels and country are normalised for case; a blank value means "not known".
    /// </summary>
    public static bool TryCreate(string? ageBand, string? gender, string? country, IEnumerable<string?>? interests, string? segment,
        out UserProfile profile, out string? error)
    {
        profile = Empty;
        error = null;
        ageBand = Blank(ageBand);
        gender = Blank(gender)?.ToLowerInvariant();
        country = Blank(country)?.ToUpperInvariant();
        segment = Blank(segment)?.ToLowerInvariant();
        if (ageBand is not null && !AgeBands.Contains(ageBand, StringComparer.Ordinal))
            error = $"age_band must be one of {string.Join(", ", AgeBands)} (a band, not an age), got '{ageBand}'";
        else if (gender is not null && !Genders.Contains(gender, StringComparer.Ordinal))
            error = $"gender must be one of {string.Join(", ", Genders)}, got '{gender}'";
        else if (country is not null && (country.Length != 2 || !country.All(char.IsAsciiLetterUpper)))
            error = $"country must be an ISO 3166-1 alpha-2 code, got '{country}'";
        else if (segment is not null && !IsLabel(segment))
            error = $"segment must be 1 to {MaxLabelLength} of a-z, 0-9, '-' and '_', got '{segment}'";
        if (error is not null) return false;

        var labels = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var raw in interests ?? [])
        {
            var interest = Blank(raw)?.ToLowerInvariant();
            if (interest is null || !IsLabel(interest))
            {
                error = $"each interest must be 1 to {MaxLabelLength} of a-z, 0-9, '-' and '_', got '{raw}'";
                return false;
            }

            labels.Add(interest);
        }

        if (labels.Count > MaxInterests)
        {
            error = $"at most {MaxInterests} interests, got {labels.Count}";
            return false;
        }

        profile = new UserProfile(ageBand, gender, country, [.. labels], segment);
        return true;
    }

    public bool Equals(UserProfile? other) =>
        other is not null
        && string.Equals(AgeBand, other.AgeBand, StringComparison.Ordinal)
        && string.Equals(Gender, other.Gender, StringComparison.Ordinal)
        && string.Equals(Country, other.Country, StringComparison.Ordinal)
        && Interests.SequenceEqual(other.Interests, StringComparer.Ordinal)
        && string.Equals(Segment, other.Segment, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(AgeBand, Gender, Country, string.Join(',', Interests), Segment);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static bool IsLabel(string s) =>
        s.Length is > 0 and <= MaxLabelLength && s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');
}
