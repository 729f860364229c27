using System.Globalization;

namespace Attribution.Domain.Experiments;

/// <summary>One arm of an A/B test: a creative and its share of the users (weights are relative).</summary>
public sealed record ExperimentArm(string CreativeId, double Weight);

/// <summary>An A/B test of a campaign's creatives (design 004, "support A/B testing for ad creatives"). The first arm
/// is the control every other arm is compared with.</summary>
public sealed record Experiment(
    string ExperimentId, string CampaignId, IReadOnlyList<ExperimentArm> Arms, DateTime Start, DateTime? End, double Alpha, double Mde)
{
    public const double DefaultAlpha = 0.05;
    public const double DefaultMde = 0.10;
    public const int MaxArms = 20;
    public const int MaxIdLength = 128;

    public ExperimentArm Control => Arms[0];

    /// <summary>scheduled before start, running in [start, end), ended from end on.</summary>
    public string StateAt(DateTime now) => now < Start ? "scheduled" : End is { } end && now >= end ? "ended" : "running";

    /// <summary>Why the definition cannot be an experiment, or null when it can.</summary>
    public static string? Check(string? experimentId, string? campaignId, IReadOnlyList<(string? CreativeId, double? Weight)>? arms,
        DateTime? start, DateTime? end, double? alpha, double? mde)
    {
        if (IdError("experiment_id", experimentId) is { } idError) return idError;
        if (IdError("campaign_id", campaignId) is { } campaignError) return campaignError;
        if (arms is null || arms.Count < 2) return "arms needs at least two arms, the first one the control";
        if (arms.Count > MaxArms) return string.Create(CultureInfo.InvariantCulture, $"arms holds at most {MaxArms} arms, got {arms.Count}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < arms.Count; i++)
        {
            var (creative, weight) = arms[i];
            if (IdError($"arms[{i}].creative_id", creative) is { } creativeError) return creativeError;
            if (!seen.Add(creative!)) return $"arms[{i}].creative_id '{creative}' is in more than one arm";
            if (weight is not { } w || !double.IsFinite(w) || w <= 0 || w > 1_000_000)
                return $"arms[{i}].weight must be a number in (0, 1000000]";
        }

        if (start is null) return "start is required (ISO-8601 or Unix epoch seconds)";
        if (end is { } e && e <= start) return "end must be after start";
        if (alpha is { } a && (!double.IsFinite(a) || a <= 0 || a >= 0.5)) return "alpha must be in (0, 0.5)";
        if (mde is { } m && (!double.IsFinite(m) || m <= 0 || m > 10)) return "mde (relative, 0.10 = +10 %) must be in (0, 10]";
        return null;
    }

    /// <summary>Whether an experiment could have this id: any other text names none.</summary>
    public static bool CouldBeId(string id) => IdError("experiment_id", id) is null;

    private static string? IdError(string field, string? id) => id switch
    {
        null or "" => $"{field} is required",
        _ when id.Length > MaxIdLength => string.Create(CultureInfo.InvariantCulture, $"{field} is longer than {MaxIdLength} characters"),
        _ when id.Any(char.IsControl) => $"{field} holds a control character",
        _ when id.Trim().Length != id.Length => $"{field} has leading or trailing white space",
        _ => null,
    };
}
