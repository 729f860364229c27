using Attribution.Domain.Tracking;

namespace Attribution.Domain.Campaigns;

/// <summary>
/// SCD type 2 for dim_campaigns (design 3.4): every change of budget, status, name, budget type or landing domains
/// closes the current version at the change's effective time and opens a new one, so facts join the version valid
/// when they happened (and a click is checked against the landing domains in force when it happens).
/// </summary>
public static class CampaignScd2
{
    /// <summary>Decides what one change does, given the campaign's current version (null for a new campaign).</summary>
    /// <param name="newKey">The surrogate key of the version the change would open; unused when none opens.</param>
    public static Scd2Decision Decide(CampaignVersion? current, CampaignChange change, long newKey) =>
        Decide(current, change, () => newKey);

    /// <summary>Decides what one change does; <paramref name="allocateKey"/> is called only when a version opens.</summary>
    public static Scd2Decision Decide(CampaignVersion? current, CampaignChange change, Func<long> allocateKey)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(allocateKey);
        if (current is not null && (!current.IsCurrent || current.CampaignId != change.CampaignId))
        {
            throw new ArgumentException($"Expected the current version of campaign {change.CampaignId}.", nameof(current));
        }

        var effective = change.EffectiveAt.ToUniversalTime();
        if (string.IsNullOrWhiteSpace(change.CampaignId))
        {
            return Reject(change, "the change names no campaign");
        }

        if (effective >= CampaignVersion.OpenEnd)
        {
            return Reject(change, $"effective time {effective:O} is not before the open end {CampaignVersion.OpenEnd:O}");
        }

        // Design rule "history is append-only": a change may not reach back before the current version, which would
        // rewrite periods that facts have already been joined to.
        if (current is not null && effective < current.StartTs)
        {
            return Reject(change, $"effective time {effective:O} is before the current version's start {current.StartTs:O}; closed history is not rewritten");
        }

        var name = change.Name ?? current?.Name;
        var budget = change.BudgetAmount ?? current?.BudgetAmount;
        var budgetType = change.BudgetType ?? current?.BudgetType;
        var status = change.Status ?? current?.Status;
        // Landing domains are optional: a campaign without any redirects only signed clicks (issue 19).
        var landingDomains = change.LandingDomains ?? current?.LandingDomains ?? LandingDomains.Empty;
        if (name is null || budget is null || budgetType is null || status is null)
        {
            var missing = new[] { ("name", name is null), ("budget_amount", budget is null), ("budget_type", budgetType is null), ("status", status is null) }
                .Where(m => m.Item2)
                .Select(m => m.Item1);
            return Reject(change, $"campaign {change.CampaignId} is new, and its first version lacks {string.Join(", ", missing)}");
        }

        if (string.IsNullOrWhiteSpace(name) || string.IsNullOrWhiteSpace(budgetType))
        {
            return Reject(change, "name and budget_type may not be blank");
        }

        // Design rule "negative values go to the audit path" (3.2.1): a negative budget is refused, not stored.
        if (budget < 0)
        {
            return Reject(change, $"budget_amount {budget} is negative");
        }

        var next = new CampaignVersion(0, change.CampaignId, name, budget.Value, budgetType, status.Value, effective, CampaignVersion.OpenEnd, IsCurrent: true)
        {
            LandingDomains = landingDomains,
        };
        if (current is null)
        {
            return new Scd2Decision.Created(next with { CampaignKey = allocateKey() });
        }

        // Design rule "no-op when unchanged": a change that repeats the current attributes writes nothing.
        if (next.SameAttributesAs(current))
        {
            return new Scd2Decision.Unchanged(current);
        }

        if (effective == current.StartTs)
        {
            return new Scd2Decision.Corrected(current, next with { CampaignKey = current.CampaignKey, StartTs = current.StartTs });
        }

        // Design rule "SCD2 close and open" (3.4): the old version ends exactly where the new one starts, no gap, no overlap.
        var closed = current with { EndTs = effective, IsCurrent = false };
        return new Scd2Decision.Superseded(closed, next with { CampaignKey = allocateKey() });
    }

    /// <summary>
    /// The SCD2 MERGE of a batch: applies the staged changes (several per campaign, in any order) on top of the
    /// current versions, in effective-time order per campaign, and returns one final write per touched row.
    /// </summary>
    /// <param name="currentVersions">The current version of each campaign that has one (at most one per campaign).</param>
    /// <param name="changes">Staged changes; changes of one campaign at one instant are combined, in Sequence order, then input order.</param>
    /// <param name="allocateKey">Called once per opened version, campaigns in id order and each in time order.</param>
    public static Scd2MergeResult Merge(IEnumerable<CampaignVersion> currentVersions, IEnumerable<CampaignChange> changes, Func<long> allocateKey)
    {
        ArgumentNullException.ThrowIfNull(currentVersions);
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(allocateKey);

        var current = new SortedDictionary<string, CampaignVersion>(StringComparer.Ordinal);
        foreach (var version in currentVersions)
        {
            if (!version.IsCurrent || !current.TryAdd(version.CampaignId, version))
            {
                throw new ArgumentException($"Campaign {version.CampaignId} must be given once, by its current version.", nameof(currentVersions));
            }
        }

        var rows = new List<(CampaignVersion Row, bool IsNew)>();
        var rowIndex = new Dictionary<long, int>();
        var rejections = new List<Scd2Decision.Rejected>();

        void Put(CampaignVersion row, bool isNew)
        {
            if (rowIndex.TryGetValue(row.CampaignKey, out var index))
            {
                rows[index] = (row, rows[index].IsNew);
            }
            else
            {
                rowIndex[row.CampaignKey] = rows.Count;
                rows.Add((row, isNew));
            }
        }

        var byCampaign = changes
            .Select((change, order) => (change, order))
            .GroupBy(c => c.change.CampaignId ?? "", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var campaign in byCampaign)
        {
            var state = current.GetValueOrDefault(campaign.Key);
            foreach (var change in Coalesce(campaign))
            {
                switch (Decide(state, change, allocateKey))
                {
                    case Scd2Decision.Rejected rejected:
                        rejections.Add(rejected);
                        break;
                    case Scd2Decision.Created created:
                        Put(created.Version, isNew: true);
                        state = created.Version;
                        break;
                    case Scd2Decision.Superseded superseded:
                        Put(superseded.Closed, isNew: false);
                        Put(superseded.Opened, isNew: true);
                        state = superseded.Opened;
                        break;
                    case Scd2Decision.Corrected corrected:
                        Put(corrected.After, isNew: false);
                        state = corrected.After;
                        break;
                }
            }

            if (state is not null)
            {
                current[campaign.Key] = state;
            }
        }

        var writes = rows
            .Select(r => new Scd2Write(r.IsNew ? Scd2WriteKind.Open : r.Row.IsCurrent ? Scd2WriteKind.Correct : Scd2WriteKind.Close, r.Row))
            .OrderBy(w => w.EffectiveAt)
            .ThenBy(w => w.Row.CampaignId, StringComparer.Ordinal)
            // At one instant the old row closes before the new one opens, so a unique "one current row" index holds throughout.
            .ThenBy(w => w.Kind)
            .ThenBy(w => w.Row.CampaignKey)
            .ToList();
        return new Scd2MergeResult(writes, rejections, current.Values.ToList());
    }

    /// <summary>The version of the campaign valid at <paramref name="t"/>, or null when there is none.</summary>
    public static CampaignVersion? VersionAt(IEnumerable<CampaignVersion> history, string campaignId, DateTimeOffset t)
    {
        ArgumentNullException.ThrowIfNull(history);
        return history
            .Where(v => string.Equals(v.CampaignId, campaignId, StringComparison.Ordinal) && v.IsValidAt(t))
            .MaxBy(v => v.StartTs);
    }

    /// <summary>
    /// Checks a dim_campaigns history: unique keys; per campaign, non-empty versions that follow each other with no
    /// gap and no overlap, and exactly one current version, the last, ending at the open end. Returns the violations.
    /// </summary>
    public static IReadOnlyList<string> CheckHistory(IEnumerable<CampaignVersion> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var versions = history.ToList();
        var problems = versions
            .GroupBy(v => v.CampaignKey)
            .Where(g => g.Count() > 1)
            .Select(g => $"campaign_key {g.Key} is used {g.Count()} times")
            .ToList();

        foreach (var campaign in versions.GroupBy(v => v.CampaignId, StringComparer.Ordinal))
        {
            var ordered = campaign.OrderBy(v => v.StartTs).ToList();
            foreach (var v in ordered.Where(v => v.StartTs >= v.EndTs))
            {
                problems.Add($"{campaign.Key}: version {v.CampaignKey} is valid for no instant ({v.StartTs:O} .. {v.EndTs:O})");
            }

            for (var i = 1; i < ordered.Count; i++)
            {
                var (before, after) = (ordered[i - 1], ordered[i]);
                if (before.EndTs < after.StartTs)
                {
                    problems.Add($"{campaign.Key}: gap between versions {before.CampaignKey} and {after.CampaignKey}");
                }
                else if (before.EndTs > after.StartTs)
                {
                    problems.Add($"{campaign.Key}: versions {before.CampaignKey} and {after.CampaignKey} overlap");
                }
            }

            var currents = ordered.Count(v => v.IsCurrent);
            if (currents != 1)
            {
                problems.Add($"{campaign.Key}: {currents} current versions");
            }

            var last = ordered[^1];
            if (!last.IsCurrent || last.EndTs != CampaignVersion.OpenEnd)
            {
                problems.Add($"{campaign.Key}: the latest version {last.CampaignKey} is not the open current one");
            }

            foreach (var v in ordered.Where(v => v.IsCurrent != (v.EndTs == CampaignVersion.OpenEnd)))
            {
                problems.Add($"{campaign.Key}: version {v.CampaignKey} has is_current {v.IsCurrent} but end {v.EndTs:O}");
            }
        }

        return problems;
    }

    // One change per instant: changes of a campaign at the same effective time are laid over each other in Sequence,
    // then input, order, so "budget then status" sent as two rows becomes one version, not a zero-length one.
    private static IEnumerable<CampaignChange> Coalesce(IEnumerable<(CampaignChange Change, int Order)> changes) =>
        changes
            .OrderBy(c => c.Change.EffectiveAt.UtcTicks)
            .ThenBy(c => c.Change.Sequence)
            .ThenBy(c => c.Order)
            .GroupBy(c => c.Change.EffectiveAt.UtcTicks)
            .Select(g => g.Select(c => c.Change).Aggregate((earlier, later) => earlier.Then(later)));

    private static Scd2Decision.Rejected Reject(CampaignChange change, string reason) => new(change, reason);
}
