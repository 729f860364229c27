namespace Attribution.Domain.Dimensions;

/// <summary>What one change does to a dimension member's history.</summary>
public abstract record Scd2Decision<TVersion, TChange>
    where TVersion : class, IScd2Version<TVersion>
    where TChange : IScd2Change<TChange, TVersion>
{
    private Scd2Decision()
    {
    }

    /// <summary>The change repeats the current attributes: nothing to write.</summary>
    public sealed record Unchanged(TVersion Current) : Scd2Decision<TVersion, TChange>;

    /// <summary>The member is new: its first version.</summary>
    public sealed record Created(TVersion Version) : Scd2Decision<TVersion, TChange>;

    /// <summary>The current version ends at the change's effective time and a new current version starts there.</summary>
    public sealed record Superseded(TVersion Closed, TVersion Opened) : Scd2Decision<TVersion, TChange>;

    /// <summary>
    /// The change takes effect at the very instant the current version starts: that version's attributes are
    /// corrected in place (same key), since closing it would leave a version valid for no instant at all.
    /// </summary>
    public sealed record Corrected(TVersion Before, TVersion After) : Scd2Decision<TVersion, TChange>;

    /// <summary>The change cannot be applied; <paramref name="Reason"/> says why.</summary>
    public sealed record Rejected(TChange Change, string Reason) : Scd2Decision<TVersion, TChange>;
}

/// <summary>How a row is written: Open rows are inserted; Close and Correct rows update every column of the row with that key.</summary>
public enum Scd2WriteKind
{
    Close,
    Correct,
    Open,
}

/// <summary>One row to write, in its final state for this merge.</summary>
public sealed record Scd2Write<TVersion>(Scd2WriteKind Kind, TVersion Row)
    where TVersion : class, IScd2Version<TVersion>
{
    /// <summary>When the write takes effect: a close at the row's end, an open or a correction at its start.</summary>
    public DateTimeOffset EffectiveAt => Kind == Scd2WriteKind.Close ? Row.EndTs : Row.StartTs;
}

/// <summary>The result of merging a batch of staged changes into a dimension.</summary>
/// <param name="Writes">At most one write per row (a MERGE may touch a target row once), in effective-time order.</param>
/// <param name="Rejections">Changes that were not applied, with the reason.</param>
/// <param name="Current">The current version of every member after the merge, by member id.</param>
public sealed record Scd2MergeResult<TVersion, TChange>(
    IReadOnlyList<Scd2Write<TVersion>> Writes,
    IReadOnlyList<Scd2Decision<TVersion, TChange>.Rejected> Rejections,
    IReadOnlyList<TVersion> Current)
    where TVersion : class, IScd2Version<TVersion>
    where TChange : IScd2Change<TChange, TVersion>;
