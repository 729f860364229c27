using Attribution.Domain.Campaigns;
using Attribution.Domain.Tracking;
using Npgsql;

namespace Attribution.Projections.Campaigns;

/// <summary>
/// The landing domains of every campaign, in memory, so that /click reads no database (and keeps redirecting while
/// PostgreSQL is away). Loaded at start, changed at once by this instance's own campaign writes (CampaignDimension
/// calls <see cref="Apply"/> after each commit), and read again periodically for the writes of other instances.
/// </summary>
public sealed class LandingDomainCache(NpgsqlDataSource dataSource, TimeProvider clock)
{
    // Per campaign, its versions that had not ended when last seen: the current one, and the one still in force
    // while a current version that starts in the future waits. Replaced whole, never changed in place.
    private volatile Dictionary<string, CampaignVersion[]> _byCampaign = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _localWrites;

    /// <summary>Whether a read of the whole table has succeeded yet.</summary>
    public bool Loaded { get; private set; }

    /// <summary>The landing domains of the campaign's version in force at <paramref name="at"/>, or null when it has none.</summary>
    public LandingDomains? At(string campaignId, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(campaignId);
        return _byCampaign.TryGetValue(campaignId, out var versions) ? CampaignScd2.VersionAt(versions, campaignId, at)?.LandingDomains : null;
    }

    /// <summary>Takes rows this instance has just committed to dim_campaigns (opened, closed or corrected versions).</summary>
    public void Apply(IEnumerable<CampaignVersion> written)
    {
        ArgumentNullException.ThrowIfNull(written);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            var next = new Dictionary<string, CampaignVersion[]>(_byCampaign, StringComparer.Ordinal);
            foreach (var campaign in written.GroupBy(r => r.CampaignId, StringComparer.Ordinal))
            {
                var rows = next.GetValueOrDefault(campaign.Key, []).ToDictionary(v => v.CampaignKey);
                foreach (var row in campaign) rows[row.CampaignKey] = row;
                Set(next, campaign.Key, rows.Values, now);
            }

            _byCampaign = next;
            _localWrites++;
        }
    }

    /// <summary>
    /// Reads the versions that have not ended from dim_campaigns and replaces what is held. Returns false, keeping what
    /// is held, when this instance wrote a change while the read ran (the read may predate it): read again then.
    /// Throws what Npgsql throws when PostgreSQL is away; what is held stays in use meanwhile.
    /// </summary>
    public async Task<bool> RefreshAsync(CancellationToken ct)
    {
        long seen;
        lock (_gate) seen = _localWrites;
        var rows = await CampaignDimension.UnendedVersionsAsync(dataSource, ct);
        var now = clock.GetUtcNow();
        var next = new Dictionary<string, CampaignVersion[]>(StringComparer.Ordinal);
        foreach (var campaign in rows.GroupBy(r => r.CampaignId, StringComparer.Ordinal)) Set(next, campaign.Key, campaign, now);
        lock (_gate)
        {
            if (_localWrites != seen) return false;
            _byCampaign = next;
            Loaded = true;
            return true;
        }
    }

    private static void Set(Dictionary<string, CampaignVersion[]> map, string campaignId, IEnumerable<CampaignVersion> versions, DateTimeOffset now)
    {
        var live = versions.Where(v => v.EndTs > now).ToArray();
        // A campaign none of whose versions lists a domain redirects only signed clicks: nothing to hold.
        if (live.Any(v => !v.LandingDomains.IsEmpty)) map[campaignId] = live;
        else map.Remove(campaignId);
    }
}
