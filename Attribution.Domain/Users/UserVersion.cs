using Attribution.Domain.Dimensions;

namespace Attribution.Domain.Users;

/// <summary>One row of dim_users: a user's profile during [StartTs, EndTs).</summary>
/// <param name="UserKey">Surrogate key of this version.</param>
/// <param name="UserId">Natural key, the user_id events carry.</param>
public sealed record UserVersion(long UserKey, string UserId, UserProfile Profile, DateTimeOffset StartTs, DateTimeOffset EndTs, bool IsCurrent)
    : IScd2Version<UserVersion>
{
    long IScd2Version<UserVersion>.Key => UserKey;

    string IScd2Version<UserVersion>.MemberId => UserId;

    /// <summary>Design rule "no-op when unchanged" compares the whole profile: any band that differs opens a version.</summary>
    public bool SameAttributesAs(UserVersion other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Profile.Equals(other.Profile);
    }

    UserVersion IScd2Version<UserVersion>.WithValidity(long key, DateTimeOffset startTs, DateTimeOffset endTs, bool isCurrent) =>
        this with { UserKey = key, StartTs = startTs, EndTs = endTs, IsCurrent = isCurrent };
}

/// <summary>A user's profile as of <paramref name="EffectiveAt"/>: it replaces the whole profile (a band left out is
/// no longer known), as PUT does.</summary>
/// <param name="Sequence">Orders profiles of one user at one instant (the line number of a batch); later wins.</param>
public sealed record UserChange(string UserId, DateTimeOffset EffectiveAt, UserProfile Profile, long Sequence = 0)
    : IScd2Change<UserChange, UserVersion>
{
    string IScd2Change<UserChange, UserVersion>.MemberId => UserId;

    public UserChange Then(UserChange later)
    {
        ArgumentNullException.ThrowIfNull(later);
        return later with { Sequence = Math.Max(Sequence, later.Sequence) };
    }

    public UserVersion? Open(UserVersion? current, DateTimeOffset effective, out string? error)
    {
        error = null;
        return new UserVersion(0, UserId, Profile, effective, Scd2.OpenEnd, IsCurrent: true);
    }
}
