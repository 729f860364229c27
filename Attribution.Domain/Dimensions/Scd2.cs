namespace Attribution.Domain.Dimensions;

/// <summary>One version of a dimension member (a campaign, a user): its attributes during [StartTs, EndTs).</summary>
public interface IScd2Version<TSelf>
    where TSelf : class, IScd2Version<TSelf>
{
    /// <summary>The surrogate key of this version.</summary>
    long Key { get; }

    /// <summary>The natural key of the member, the id in the source systems.</summary>
    string MemberId { get; }

    DateTimeOffset StartTs { get; }

    DateTimeOffset EndTs { get; }

    bool IsCurrent { get; }

    /// <summary>Whether two versions carry the same tracked attributes.</summary>
    bool SameAttributesAs(TSelf other);

    /// <summary>This version's attributes under another key and validity.</summary>
    TSelf WithValidity(long key, DateTimeOffset startTs, DateTimeOffset endTs, bool isCurrent);
}

/// <summary>A change to a dimension member, effective from <see cref="EffectiveAt"/>.</summary>
public interface IScd2Change<TSelf, TVersion>
    where TSelf : IScd2Change<TSelf, TVersion>
    where TVersion : class, IScd2Version<TVersion>
{
    string MemberId { get; }

    DateTimeOffset EffectiveAt { get; }

    /// <summary>Orders changes with the same effective time (e.g. the staging row id); later wins.</summary>
    long Sequence { get; }

    /// <summary>This change with <paramref name="later"/>'s attributes laid over it, for changes at one instant.</summary>
    TSelf Then(TSelf later);

    /// <summary>The attributes this change leaves in force on top of <paramref name="current"/> (null for a new member),
    /// as a version starting at <paramref name="effective"/> with key 0 and the open end; null with a reason when the
    /// member's own rules refuse them (a first version lacking an attribute, a negative budget).</summary>
    TVersion? Open(TVersion? current, DateTimeOffset effective, out string? error);
}

/// <summary>
/// SCD type 2 (design 000 §3.4), the one rule every dimension follows: a change of a tracked attribute closes the
/// current version at the change's effective time and opens a new one, so facts join the version valid when they
/// happened. What the attributes are, and which values are allowed, is each member type's own (IScd2Change.Open).
/// </summary>
public static class Scd2
{
    /// <summary>The end of a version that is still current (design 3.4: the 9999-12-31 high watermark).</summary>
    public static DateTimeOffset OpenEnd { get; } = new(9999, 12, 31, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Decides what one change does, given the member's current version (null for a new member);
    /// <paramref name="allocateKey"/> is called only when a version opens.</summary>
    public static Scd2Decision<TVersion, TChange> Decide<TVersion, TChange>(TVersion? current, TChange change, Func<long> allocateKey)
        where TVersion : class, IScd2Version<TVersion>
        where TChange : IScd2Change<TChange, TVersion>
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(allocateKey);
        if (current is not null && (!current.IsCurrent || current.MemberId != change.MemberId))
        {
            throw new ArgumentException($"Expected the current version of {change.MemberId}.", nameof(current));
        }

        var effective = change.EffectiveAt.ToUniversalTime();
        if (string.IsNullOrWhiteSpace(change.MemberId))
        {
            return new Scd2Decision<TVersion, TChange>.Rejected(change, "the change names no member");
        }

        if (effective >= OpenEnd)
        {
            return new Scd2Decision<TVersion, TChange>.Rejected(change, $"effective time {effective:O} is not before the open end {OpenEnd:O}");
        }

        // Design rule "history is append-only": a change may not reach back before the current version, which would
        // rewrite periods that facts have already been joined to.
        if (current is not null && effective < current.StartTs)
        {
            return new Scd2Decision<TVersion, TChange>.Rejected(change,
                $"effective time {effective:O} is before the current version's start {current.StartTs:O}; closed history is not rewritten");
        }

        if (change.Open(current, effective, out var error) is not { } next)
        {
            return new Scd2Decision<TVersion, TChange>.Rejected(change, error ?? "the change was refused");
        }

        if (current is null)
        {
            return new Scd2Decision<TVersion, TChange>.Created(next.WithValidity(allocateKey(), effective, OpenEnd, isCurrent: true));
        }

        // Design rule "no-op when unchanged": a change that repeats the current attributes writes nothing.
        if (next.SameAttributesAs(current))
        {
            return new Scd2Decision<TVersion, TChange>.Unchanged(current);
        }

        if (effective == current.StartTs)
        {
            return new Scd2Decision<TVersion, TChange>.Corrected(current, next.WithValidity(current.Key, current.StartTs, OpenEnd, isCurrent: true));
        }

        // Design rule "SCD2 close and open" (3.4): the old version ends exactly where the new one starts, no gap, no overlap.
        var closed = current.WithValidity(current.Key, current.StartTs, effective, isCurrent: false);
        return new Scd2Decision<TVersion, TChange>.Superseded(closed, next.WithValidity(allocateKey(), effective, OpenEnd, isCurrent: true));
    }

    /// <summary>
    /// The SCD2 MERGE of a batch: applies the staged changes (several per member, in any order) on top of the
    /// current versions, in effective-time order per member, and returns one final write per touched row.
    /// </summary>
    /// <param name="currentVersions">The current version of each member that has one (at most one per member).</param>
    /// <param name="changes">Staged changes; changes of one member at one instant are combined, in Sequence order, then input order.</param>
    /// <param name="allocateKey">Called once per opened version, members in id order and each in time order.</param>
    public static Scd2MergeResult<TVersion, TChange> Merge<TVersion, TChange>(
        IEnumerable<TVersion> currentVersions, IEnumerable<TChange> changes, Func<long> allocateKey)
        where TVersion : class, IScd2Version<TVersion>
        where TChange : IScd2Change<TChange, TVersion>
    {
        ArgumentNullException.ThrowIfNull(currentVersions);
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(allocateKey);

        var current = new SortedDictionary<string, TVersion>(StringComparer.Ordinal);
        foreach (var version in currentVersions)
        {
            if (!version.IsCurrent || !current.TryAdd(version.MemberId, version))
            {
                throw new ArgumentException($"{version.MemberId} must be given once, by its current version.", nameof(currentVersions));
            }
        }

        var rows = new List<(TVersion Row, bool IsNew)>();
        var rowIndex = new Dictionary<long, int>();
        var rejections = new List<Scd2Decision<TVersion, TChange>.Rejected>();

        void Put(TVersion row, bool isNew)
        {
            if (rowIndex.TryGetValue(row.Key, out var index))
            {
                rows[index] = (row, rows[index].IsNew);
            }
            else
            {
                rowIndex[row.Key] = rows.Count;
                rows.Add((row, isNew));
            }
        }

        var byMember = changes
            .Select((change, order) => (change, order))
            .GroupBy(c => c.change.MemberId ?? "", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var member in byMember)
        {
            var state = current.GetValueOrDefault(member.Key);
            foreach (var change in Coalesce<TChange, TVersion>(member))
            {
                switch (Decide(state, change, allocateKey))
                {
                    case Scd2Decision<TVersion, TChange>.Rejected rejected:
                        rejections.Add(rejected);
                        break;
                    case Scd2Decision<TVersion, TChange>.Created created:
                        Put(created.Version, isNew: true);
                        state = created.Version;
                        break;
                    case Scd2Decision<TVersion, TChange>.Superseded superseded:
                        Put(superseded.Closed, isNew: false);
                        Put(superseded.Opened, isNew: true);
                        state = superseded.Opened;
                        break;
                    case Scd2Decision<TVersion, TChange>.Corrected corrected:
                        Put(corrected.After, isNew: false);
                        state = corrected.After;
                        break;
                }
            }

            if (state is not null)
            {
                current[member.Key] = state;
            }
        }

        var writes = rows
            .Select(r => new Scd2Write<TVersion>(r.IsNew ? Scd2WriteKind.Open : r.Row.IsCurrent ? Scd2WriteKind.Correct : Scd2WriteKind.Close, r.Row))
            .OrderBy(w => w.EffectiveAt)
            .ThenBy(w => w.Row.MemberId, StringComparer.Ordinal)
            // At one instant the old row closes before the new one opens, so a unique "one current row" index holds throughout.
            .ThenBy(w => w.Kind)
            .ThenBy(w => w.Row.Key)
            .ToList();
        return new Scd2MergeResult<TVersion, TChange>(writes, rejections, current.Values.ToList());
    }

    /// <summary>Design rule "time-travel join" (3.4): the version valid at t (start_ts &lt;= t &lt; end_ts), or null.</summary>
    public static TVersion? VersionAt<TVersion>(IEnumerable<TVersion> history, string memberId, DateTimeOffset t)
        where TVersion : class, IScd2Version<TVersion>
    {
        ArgumentNullException.ThrowIfNull(history);
        return history
            .Where(v => string.Equals(v.MemberId, memberId, StringComparison.Ordinal) && v.StartTs <= t && t < v.EndTs)
            .MaxBy(v => v.StartTs);
    }

    /// <summary>
    /// Checks a dimension's history: unique keys; per member, non-empty versions that follow each other with no gap
    /// and no overlap, and exactly one current version, the last, ending at the open end. Returns the violations.
    /// </summary>
    public static IReadOnlyList<string> CheckHistory<TVersion>(IEnumerable<TVersion> history)
        where TVersion : class, IScd2Version<TVersion>
    {
        ArgumentNullException.ThrowIfNull(history);
        var versions = history.ToList();
        var problems = versions
            .GroupBy(v => v.Key)
            .Where(g => g.Count() > 1)
            .Select(g => $"key {g.Key} is used {g.Count()} times")
            .ToList();

        foreach (var member in versions.GroupBy(v => v.MemberId, StringComparer.Ordinal))
        {
            var ordered = member.OrderBy(v => v.StartTs).ToList();
            foreach (var v in ordered.Where(v => v.StartTs >= v.EndTs))
            {
                problems.Add($"{member.Key}: version {v.Key} is valid for no instant ({v.StartTs:O} .. {v.EndTs:O})");
            }

            for (var i = 1; i < ordered.Count; i++)
            {
                var (before, after) = (ordered[i - 1], ordered[i]);
                if (before.EndTs < after.StartTs)
                {
                    problems.Add($"{member.Key}: gap between versions {before.Key} and {after.Key}");
                }
                else if (before.EndTs > after.StartTs)
                {
                    problems.Add($"{member.Key}: versions {before.Key} and {after.Key} overlap");
                }
            }

            var currents = ordered.Count(v => v.IsCurrent);
            if (currents != 1)
            {
                problems.Add($"{member.Key}: {currents} current versions");
            }

            var last = ordered[^1];
            if (!last.IsCurrent || last.EndTs != OpenEnd)
            {
                problems.Add($"{member.Key}: the latest version {last.Key} is not the open current one");
            }

            foreach (var v in ordered.Where(v => v.IsCurrent != (v.EndTs == OpenEnd)))
            {
                problems.Add($"{member.Key}: version {v.Key} has is_current {v.IsCurrent} but end {v.EndTs:O}");
            }
        }

        return problems;
    }

    // One change per instant: changes of a member at the same effective time are laid over each other in Sequence,
    // then input, order, so "budget then status" sent as two rows becomes one version, not a zero-length one.
    private static IEnumerable<TChange> Coalesce<TChange, TVersion>(IEnumerable<(TChange Change, int Order)> changes)
        where TChange : IScd2Change<TChange, TVersion>
        where TVersion : class, IScd2Version<TVersion> =>
        changes
            .OrderBy(c => c.Change.EffectiveAt.UtcTicks)
            .ThenBy(c => c.Change.Sequence)
            .ThenBy(c => c.Order)
            .GroupBy(c => c.Change.EffectiveAt.UtcTicks)
            .Select(g => g.Select(c => c.Change).Aggregate((earlier, later) => earlier.Then(later)));
}
