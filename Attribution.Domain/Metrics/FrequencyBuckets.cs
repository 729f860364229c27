namespace Attribution.Domain.Metrics;

/// <summary>A range of effective frequencies reported together.</summary>
public sealed record FrequencyBucket(string Label, long Min, long? Max)
{
    public bool Contains(long frequency) => frequency >= Min && (Max is null || frequency <= Max);
}

/// <summary>Users who saw <paramref name="Frequency"/> impressions (before converting, when they did).</summary>
public sealed record FrequencyGroup(long Frequency, bool Converted, long Users);

/// <summary>A bucket's users, how many of them converted, and the conversion rate (null when it holds no user).</summary>
public sealed record FrequencyBucketStats(FrequencyBucket Bucket, long Users, long Converters, double? ConversionRate);

/// <summary>
/// Design 000 §4.2 "effective frequency": the impressions a user saw before converting (before the first conversion;
/// all of them in the range for a user who did not convert), reported in buckets that stay readable: each of 0 to 5,
/// then 6-10, 11-20 and 21+.
/// </summary>
public static class FrequencyBuckets
{
    public static IReadOnlyList<FrequencyBucket> All { get; } =
    [
        new("0", 0, 0), new("1", 1, 1), new("2", 2, 2), new("3", 3, 3), new("4", 4, 4), new("5", 5, 5),
        new("6-10", 6, 10), new("11-20", 11, 20), new("21+", 21, null),
    ];

    public static FrequencyBucket Of(long frequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frequency);
        return All.First(b => b.Contains(frequency));
    }

    /// <summary>Every bucket in order with its users and converters; conversion rate = converters / users.</summary>
    public static IReadOnlyList<FrequencyBucketStats> Summarize(IEnumerable<FrequencyGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var list = groups.ToList();
        return All.Select(b =>
        {
            var inBucket = list.Where(g => b.Contains(g.Frequency)).ToList();
            var users = inBucket.Sum(g => g.Users);
            var converters = inBucket.Where(g => g.Converted).Sum(g => g.Users);
            return new FrequencyBucketStats(b, users, converters, users == 0 ? null : (double)converters / users);
        }).ToList();
    }
}
