using System.Text;
using System.Text.Json;
using Attribution.Api.Infrastructure;
using Attribution.Domain.Users;
using Attribution.Projections.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;
using UserDecision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Users.UserVersion, Attribution.Domain.Users.UserChange>;

namespace Attribution.Api.Users;

/// <summary>The user dimension, SCD type 2 (design 000 §3.3, issue 21): profiles as bands, one or a batch at a time.</summary>
public static class UserEndpoints
{
    public static IEndpointRouteBuilder MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/users").WithTags("Users").RequireAdminKey();
        group.MapPut("/{userId}", Put).WithName("ChangeUser")
            .WithSummary("Sets a user's profile now (or at effective_at): closes the current version and opens a new one atomically, only when a band changed (needs X-Admin-Key)")
            .WithDescription("Demographics are bands, never raw personal data: age_band (" + string.Join(", ", UserProfile.AgeBands) + "), gender (" +
                             string.Join(", ", UserProfile.Genders) + "), country (ISO 3166-1 alpha-2), interests (labels), segment (a label). The body " +
                             "replaces the whole profile: a band left out is no longer known. effective_at may not be before the current version's start.");
        app.MapPost("/api/v1/users:batch", Batch).WithName("ChangeUsers").WithTags("Users").RequireAdminKey()
            .WithSummary("Applies a batch of profiles (NDJSON, one profile with its user_id per line) as one SCD2 merge in one transaction (needs X-Admin-Key)")
            .WithDescription("Every line is checked first: one invalid line refuses the batch and nothing is applied. Profiles of one user at one " +
                             "effective_at are laid over each other in line order.");
        group.MapGet("/{userId}", Get).WithName("User").WithSummary("The user's current profile (needs X-Admin-Key)");
        group.MapGet("/{userId}/history", History).WithName("UserHistory")
            .WithSummary("Every version of the user's profile, oldest first: [start_ts, end_ts) with no gap and no overlap (needs X-Admin-Key)");
        return app;
    }

    public const int MaxBatch = 100_000;

    /// <summary>A profile as sent; effective_at is now when absent.</summary>
    public sealed record UserProfileRequest(string? AgeBand, string? Gender, string? Country, IReadOnlyList<string?>? Interests, string? Segment,
        DateTimeOffset? EffectiveAt);

    /// <summary>One NDJSON line of a batch: a profile with its user_id.</summary>
    public sealed record UserProfileLine(string? UserId, string? AgeBand, string? Gender, string? Country, IReadOnlyList<string?>? Interests,
        string? Segment, DateTimeOffset? EffectiveAt);

    public sealed record UserVersionView(long UserKey, string UserId, string? AgeBand, string? Gender, string? Country, IReadOnlyList<string> Interests,
        string? Segment, DateTimeOffset StartTs, DateTimeOffset EndTs, bool IsCurrent)
    {
        public static UserVersionView From(UserVersion v) => new(v.UserKey, v.UserId, v.Profile.AgeBand, v.Profile.Gender, v.Profile.Country,
            v.Profile.Interests, v.Profile.Segment, v.StartTs, v.EndTs, v.IsCurrent);
    }

    public sealed record UserChangeView(string Outcome, bool Changed, UserVersionView? Current);

    private static async Task<Results<Created<UserChangeView>, Ok<UserChangeView>, ProblemHttpResult>> Put(
        string userId, UserProfileRequest profile, UserDimension users, TimeProvider clock, CancellationToken ct)
    {
        var change = Validate(userId, profile.AgeBand, profile.Gender, profile.Country, profile.Interests, profile.Segment, profile.EffectiveAt, 0, clock, out var error);
        if (change is null) return Problems.BadRequest(error!);
        var (decision, now) = await users.ChangeAsync(change, ct);
        var current = now is null ? null : UserVersionView.From(now);
        return decision switch
        {
            UserDecision.Rejected r => Problems.BadRequest(r.Reason, "The profile was not applied"),
            UserDecision.Created => TypedResults.Created($"/api/v1/users/{Uri.EscapeDataString(userId)}", new UserChangeView("created", true, current)),
            UserDecision.Superseded => TypedResults.Ok(new UserChangeView("superseded", true, current)),
            UserDecision.Corrected => TypedResults.Ok(new UserChangeView("corrected", true, current)),
            _ => TypedResults.Ok(new UserChangeView("unchanged", false, current)),
        };
    }

    private static async Task<Results<Ok<UserMergeCounts>, ProblemHttpResult>> Batch(
        HttpRequest request, UserDimension users, TimeProvider clock, IOptions<JsonOptions> json, IOptions<TrackingOptions> limits, CancellationToken ct)
    {
        var body = await Body.ReadAsync(request, limits.Value.MaxBodyBytes, ct);
        if (body is null) return Problems.TooLarge(limits.Value.MaxBodyBytes);
        var changes = new List<UserChange>();
        var errors = new List<string>();
        var line = 0;
        foreach (var text in Encoding.UTF8.GetString(body).Split('\n'))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            UserProfileLine? p;
            try
            {
                p = JsonSerializer.Deserialize<UserProfileLine>(text, json.Value.SerializerOptions);
            }
            catch (JsonException e)
            {
                errors.Add($"line {line}: not a JSON object ({e.Message})");
                continue;
            }

            if (p is null)
            {
                errors.Add($"line {line}: null");
                continue;
            }

            var change = Validate(p.UserId, p.AgeBand, p.Gender, p.Country, p.Interests, p.Segment, p.EffectiveAt, line, clock, out var error);
            if (change is null) errors.Add($"line {line}: {error}");
            else changes.Add(change);
        }

        if (errors.Count > 0) return Problems.BadRequest(string.Join("; ", errors.Take(20)), "Some profiles are not valid; nothing was applied");
        if (changes.Count == 0) return Problems.BadRequest("The body holds no profile: send NDJSON, one profile with its user_id per line");
        if (changes.Count > MaxBatch) return Problems.BadRequest($"at most {MaxBatch} profiles per batch, got {changes.Count}");
        return TypedResults.Ok(await users.MergeAsync(changes, ct));
    }

    private static async Task<Results<Ok<UserVersionView>, ProblemHttpResult>> Get(string userId, UserDimension users, CancellationToken ct) =>
        await users.CurrentAsync(userId, ct) is { } v
            ? TypedResults.Ok(UserVersionView.From(v))
            : Problems.NotFound($"No user '{userId}' in dim_users.");

    private static async Task<Results<Ok<List<UserVersionView>>, ProblemHttpResult>> History(string userId, UserDimension users, CancellationToken ct)
    {
        var history = await users.HistoryAsync(userId, ct);
        return history.Count == 0
            ? Problems.NotFound($"No user '{userId}' in dim_users.")
            : TypedResults.Ok(history.Select(UserVersionView.From).ToList());
    }

    /// <summary>The API's contract on a profile; whether the bands are bands is the domain's call (UserProfile).</summary>
    private static UserChange? Validate(string? userId, string? ageBand, string? gender, string? country, IReadOnlyList<string?>? interests,
        string? segment, DateTimeOffset? effectiveAt, long sequence, TimeProvider clock, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(userId) || userId.Length > 200) error = "user_id must be 1 to 200 characters";
        // PostgreSQL text cannot hold NUL: stored, it would fail the whole batch.
        else if (userId.Contains('\0', StringComparison.Ordinal)) error = "user_id contains a NUL character";
        if (error is not null) return null;
        if (!UserProfile.TryCreate(ageBand, gender, country, interests, segment, out var profile, out error)) return null;
        // A profile that knows nothing says no more than no profile at all (the audience's "unknown"): most likely a mistake.
        if (profile.Equals(UserProfile.Empty))
        {
            error = "nothing to set: give at least one of age_band, gender, country, interests, segment";
            return null;
        }

        var at = effectiveAt ?? clock.GetUtcNow();
        // Stored times have microsecond precision; a profile effective in between would not round-trip.
        at = new DateTimeOffset(at.UtcTicks - (at.UtcTicks % 10), TimeSpan.Zero);
        return new UserChange(userId!, at, profile, sequence);
    }
}
