namespace Attribution.Domain.Campaigns;

/// <summary>What one change does to a campaign's history.</summary>
public abstract record Scd2Decision
{
    private Scd2Decision()
    {
    }

    /// <summary>The change repeats the current attributes: nothing to write.</summary>
    public sealed record Unchanged(CampaignVersion Current) : Scd2Decision;

    /// <summary>The campaign is new: its first version.</summary>
    public sealed record Created(CampaignVersion Version) : Scd2Decision;

    /// <summary>The current version ends at the change's effective time and a new current version starts there.</summary>
    public sealed record Superseded(CampaignVersion Closed, CampaignVersion Opened) : Scd2Decision;

    /// <summary>
    /// The change takes effect at the very instant the current version starts: that version's attributes are
    /// corrected in place (same key), since closing it would leave a version valid for no instant at all.
    /// </summary>
    public sealed record Corrected(CampaignVersion Before, CampaignVersion After) : Scd2Decision;

    /// <summary>The change cannot be applied; <paramref name="Reason"/> says why.</summary>
    public sealed record Rejected(CampaignChange Change, string Reason) : Scd2Decision;
}

/// <summary>How a row is written: Open rows are inserted; Close and Correct rows update every column of the row with that key.</summary>
public enum Scd2WriteKind
{
    Close,
    Correct,
    Open,
}

/// <summary>One row to write, in its final state for this merge.</summary>
public sealed record Scd2Write(Scd2WriteKind Kind, CampaignVersion Row)
{
    /// <summary>When the write takes effect: a close at the row's end, an open or a correction at its start.</summary>
    public DateTimeOffset EffectiveAt => Kind == Scd2WriteKind.Close ? Row.EndTs : Row.StartTs;
}

/// <summary>The result of merging a batch of staged changes into dim_campaigns.</summary>
/// <param name="Writes">At most one write per row (a MERGE may touch a target row once), in effective-time order.</param>
/// <param name="Rejections">Changes that were not applied, with the reason.</param>
/// <param name="Current">The current version of every campaign after the merge, by campaign id.</param>
public sealed record Scd2MergeResult(
    IReadOnlyList<Scd2Write> Writes,
    IReadOnlyList<Scd2Decision.Rejected> Rejections,
    IReadOnlyList<CampaignVersion> Current);
