using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Attribution.Domain.Experiments;

/// <summary>Which arm a user sees (design 004's A/B testing): a hash of the experiment and the user, so every instance
/// and every restart answers the same, and a user never changes arm while the weights stay.</summary>
public static class ArmAssignment
{
    /// <summary>SHA-256 of "experiment_id \0 user_id" read as a fraction in [0, 1), placed on the arms' cumulative
    /// weights: each arm gets its weight's share of users.</summary>
    public static ExperimentArm Assign(Experiment experiment, string userId)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        ArgumentNullException.ThrowIfNull(userId);
        var point = Fraction(experiment.ExperimentId, userId) * experiment.Arms.Sum(a => a.Weight);
        var cumulative = 0.0;
        foreach (var arm in experiment.Arms)
        {
            cumulative += arm.Weight;
            if (point < cumulative) return arm;
        }

        // Rounding of the cumulative sum can leave the very top of the range past the last arm.
        return experiment.Arms[^1];
    }

    /// <summary>The hash as a fraction in [0, 1) with 53 bits, which a double holds exactly.</summary>
    public static double Fraction(string experimentId, string userId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(experimentId + "\0" + userId), hash);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) / (double)(1UL << 53);
    }
}
