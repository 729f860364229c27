namespace Attribution.Domain.Users;

/// <summary>One group's exact totals. Money is in micro-units, as Gold keeps it (numeric(18, 6)), so sums are exact.</summary>
public sealed record AudienceTotals(long Impressions, long UniqueReach, long Clicks, long Conversions, decimal Cost, decimal Revenue);

/// <summary>
/// Exact audience totals for groupings the cube does not keep: impressions are added one by one with their groups as
/// codes (one per grouped dimension) and a 64-bit hash of their user, and each group counts its distinct users.
/// Design rule "an impression counts once in each of its user's interests" (issue 21, <see cref="Audience.GroupsOf"/>):
/// the interest dimension, if grouped, takes every code of the impression's interest set.
/// </summary>
public sealed class AudienceTally
{
    private readonly int _interestAt;
    private readonly Dictionary<Key, Cell> _cells = [];
    private readonly int[] _codes;

    /// <param name="dimensions">How many dimensions are grouped (at most <see cref="MaxDimensions"/>).</param>
    /// <param name="interestAt">The position of interest among them, or -1 when interest is not grouped.</param>
    public AudienceTally(int dimensions, int interestAt)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(dimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(dimensions, MaxDimensions);
        ArgumentOutOfRangeException.ThrowIfLessThan(interestAt, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(interestAt, Math.Max(dimensions, 1));
        _interestAt = interestAt;
        _codes = new int[MaxDimensions];
        Dimensions = dimensions;
    }

    /// <summary>The most dimensions a tally groups by: every audience dimension.</summary>
    public const int MaxDimensions = 5;

    public int Dimensions { get; }

    /// <summary>Adds one impression.</summary>
    /// <param name="codes">Its group per dimension; the entry at the interest position is not read.</param>
    /// <param name="interests">The codes of its interests (never empty: no interest is the "unknown" group's code).</param>
    /// <param name="user">Its user's hash, or null when Gold has no user for it (it then adds to no reach).</param>
    public void Add(ReadOnlySpan<int> codes, ReadOnlySpan<int> interests, long? user, bool clicked, bool converted, long costMicros, long revenueMicros)
    {
        if (codes.Length != Dimensions) throw new ArgumentException($"expected {Dimensions} codes, got {codes.Length}", nameof(codes));
        codes.CopyTo(_codes);
        if (_interestAt < 0)
        {
            AddTo(user, clicked, converted, costMicros, revenueMicros);
            return;
        }

        if (interests.IsEmpty) throw new ArgumentException("an impression has at least one interest group", nameof(interests));
        foreach (var interest in interests)
        {
            _codes[_interestAt] = interest;
            AddTo(user, clicked, converted, costMicros, revenueMicros);
        }
    }

    private void AddTo(long? user, bool clicked, bool converted, long costMicros, long revenueMicros)
    {
        var key = new Key(_codes[0], _codes[1], _codes[2], _codes[3], _codes[4]);
        if (!_cells.TryGetValue(key, out var cell)) _cells[key] = cell = new Cell();
        cell.Impressions++;
        if (clicked) cell.Clicks++;
        if (converted) cell.Conversions++;
        cell.CostMicros += costMicros;
        cell.RevenueMicros += revenueMicros;
        if (user is { } u) cell.Users.Add(u);
    }

    /// <summary>Adds every impression another tally of the same grouping holds (read in parallel with this one), its codes
    /// translated to this tally's by <paramref name="recode"/>; a user counted in both counts once.</summary>
    public void Add(AudienceTally other, Func<int, int> recode)
    {
        ArgumentNullException.ThrowIfNull(other);
        ArgumentNullException.ThrowIfNull(recode);
        if (other.Dimensions != Dimensions || other._interestAt != _interestAt)
            throw new ArgumentException("the tallies group by different dimensions", nameof(other));
        foreach (var (key, from) in other._cells)
        {
            var recoded = new Key(Recode(key.A, 0), Recode(key.B, 1), Recode(key.C, 2), Recode(key.D, 3), Recode(key.E, 4));
            if (!_cells.TryGetValue(recoded, out var cell)) _cells[recoded] = cell = new Cell();
            cell.Impressions += from.Impressions;
            cell.Clicks += from.Clicks;
            cell.Conversions += from.Conversions;
            cell.CostMicros += from.CostMicros;
            cell.RevenueMicros += from.RevenueMicros;
            cell.Users.UnionWith(from.Users);
        }

        // Positions past the grouped dimensions hold no code.
        int Recode(int code, int position) => position < Dimensions ? recode(code) : code;
    }

    /// <summary>Every group met, with its codes (one per dimension) and totals.</summary>
    public IEnumerable<(int[] Codes, AudienceTotals Totals)> Groups() =>
        _cells.Select(c => (new[] { c.Key.A, c.Key.B, c.Key.C, c.Key.D, c.Key.E }[..Dimensions],
            new AudienceTotals(c.Value.Impressions, c.Value.Users.Count, c.Value.Clicks, c.Value.Conversions,
                FromMicros(c.Value.CostMicros), FromMicros(c.Value.RevenueMicros))));

    private static decimal FromMicros(Int128 micros) => (decimal)micros / 1_000_000m;

    private readonly record struct Key(int A, int B, int C, int D, int E);

    private sealed class Cell
    {
        public long Impressions;
        public long Clicks;
        public long Conversions;
        public Int128 CostMicros;
        public Int128 RevenueMicros;
        public readonly HashSet<long> Users = [];
    }
}
