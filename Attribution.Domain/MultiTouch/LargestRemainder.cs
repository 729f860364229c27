namespace Attribution.Domain.MultiTouch;

/// <summary>Splits a whole number of units in proportion to weights so that the parts add up to exactly the whole.</summary>
public static class LargestRemainder
{
    /// <summary>
    /// Hamilton's method: every part gets the floor of its exact quota, and the units left over go one each to the
    /// largest remainders (ties to the lower index). Each part is within one unit of its quota, and a zero weight
    /// gets nothing.
    /// </summary>
    /// <param name="units">A whole number, at least 0.</param>
    /// <param name="weights">At least 0 each, with a positive sum.</param>
    public static decimal[] Allocate(decimal units, IReadOnlyList<decimal> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (units < 0 || units != decimal.Truncate(units))
        {
            throw new ArgumentOutOfRangeException(nameof(units), units, "Units must be a whole number, at least 0.");
        }

        var total = 0m;
        foreach (var weight in weights)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(weight, nameof(weights));
            total += weight;
        }

        if (total <= 0)
        {
            throw new ArgumentException("At least one weight must be positive.", nameof(weights));
        }

        var parts = new decimal[weights.Count];
        var remainders = new decimal[weights.Count];
        // Counting down from the whole (not summing the parts up) cannot overflow, even for decimal.MaxValue units.
        var left = units;
        for (var i = 0; i < parts.Length; i++)
        {
            // weight / total first keeps the product within decimal's range even for the largest unit counts.
            var quota = Math.Min(units, units * (weights[i] / total));
            parts[i] = decimal.Floor(quota);
            remainders[i] = quota - parts[i];
            left -= parts[i];
        }

        // Exact arithmetic leaves fewer units than there are positive weights; decimal's 28-digit rounding can be a
        // unit off either way, so the loops correct in both directions until the sum is exact.
        var eligible = Enumerable.Range(0, parts.Length).Where(i => weights[i] > 0).ToArray();
        var byLargest = eligible.OrderByDescending(i => remainders[i]).ThenBy(i => i).ToArray();
        for (var k = 0; left > 0; k = (k + 1) % byLargest.Length)
        {
            parts[byLargest[k]]++;
            left--;
        }

        var bySmallest = eligible.OrderBy(i => remainders[i]).ThenByDescending(i => i).ToArray();
        for (var k = 0; left < 0; k = (k + 1) % bySmallest.Length)
        {
            if (parts[bySmallest[k]] > 0)
            {
                parts[bySmallest[k]]--;
                left++;
            }
        }

        return parts;
    }
}
