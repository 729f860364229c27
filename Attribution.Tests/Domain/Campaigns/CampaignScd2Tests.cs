using Attribution.Domain.Dimensions;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Tracking;

using Scd2MergeResult = Attribution.Domain.Dimensions.Scd2MergeResult<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;
using Scd2Decision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;

namespace Attribution.Tests.Domain.Campaigns;

public class CampaignScd2Tests
{
    private static readonly DateTimeOffset Jan1 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Feb1 = new(2025, 2, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Mar1 = new(2025, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly CampaignVersion Spring = new(10, "cmp-1", "Spring", 100m, "DAILY", CampaignStatus.Active, Jan1, CampaignVersion.OpenEnd, IsCurrent: true);

    [Fact]
    public void Given_no_version_when_a_complete_change_arrives_then_the_first_version_opens_with_the_new_key_and_an_open_end()
    {
        var decision = CampaignScd2.Decide(null, new CampaignChange("cmp-1", Jan1, "Spring", 100m, "DAILY", CampaignStatus.Active), newKey: 10);

        var created = Assert.IsType<Scd2Decision.Created>(decision);
        Assert.Equal(Spring, created.Version);
    }

    [Fact]
    public void Given_a_current_version_when_the_same_attributes_arrive_then_nothing_changes_and_no_key_is_allocated()
    {
        var decision = CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, BudgetAmount: 100.00m, Status: CampaignStatus.Active), () => throw new InvalidOperationException("no key needed"));

        Assert.Equal(new Scd2Decision.Unchanged(Spring), decision);
    }

    [Fact]
    public void Given_a_current_version_when_the_budget_changes_then_it_closes_at_the_effective_time_and_a_new_version_opens_there()
    {
        var decision = CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, BudgetAmount: 250m), newKey: 11);

        var superseded = Assert.IsType<Scd2Decision.Superseded>(decision);
        Assert.Equal(Spring with { EndTs = Feb1, IsCurrent = false }, superseded.Closed);
        Assert.Equal(Spring with { CampaignKey = 11, BudgetAmount = 250m, StartTs = Feb1 }, superseded.Opened);
    }

    private static LandingDomains Domains(params string[] entries) =>
        LandingDomains.TryParse(entries, out var domains, out var error) ? domains : throw new ArgumentException(error);

    [Fact]
    public void Given_a_new_campaign_without_landing_domains_when_it_is_created_then_its_first_version_has_none()
    {
        var created = Assert.IsType<Scd2Decision.Created>(CampaignScd2.Decide(null, new CampaignChange("cmp-1", Jan1, "Spring", 100m, "DAILY", CampaignStatus.Active), newKey: 10));

        Assert.Same(LandingDomains.Empty, created.Version.LandingDomains);
    }

    [Fact]
    public void Given_a_current_version_when_only_its_landing_domains_change_then_a_new_version_opens_with_them_and_the_rest_kept()
    {
        var decision = CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Feb1, LandingDomains: Domains("shop.example")), newKey: 11);

        var superseded = Assert.IsType<Scd2Decision.Superseded>(decision);
        Assert.Equal(Spring with { EndTs = Feb1, IsCurrent = false }, superseded.Closed);
        Assert.Equal(Spring with { CampaignKey = 11, StartTs = Feb1, LandingDomains = Domains("shop.example") }, superseded.Opened);
    }

    [Fact]
    public void Given_landing_domains_when_a_change_leaves_them_out_or_repeats_them_in_another_spelling_then_they_are_kept_and_nothing_else_opens()
    {
        var withDomains = Spring with { LandingDomains = Domains("*.brand.example", "shop.example") };

        var budget = Assert.IsType<Scd2Decision.Superseded>(CampaignScd2.Decide(withDomains, new CampaignChange("cmp-1", Feb1, BudgetAmount: 5m), newKey: 11));
        var same = CampaignScd2.Decide(withDomains, new CampaignChange("cmp-1", Feb1, LandingDomains: Domains("SHOP.example", "*.Brand.example")), () => throw new InvalidOperationException("no key needed"));
        var cleared = Assert.IsType<Scd2Decision.Superseded>(CampaignScd2.Decide(withDomains, new CampaignChange("cmp-1", Feb1, LandingDomains: LandingDomains.Empty), newKey: 12));

        Assert.Equal(withDomains.LandingDomains, budget.Opened.LandingDomains);
        Assert.Equal(new Scd2Decision.Unchanged(withDomains), same);
        Assert.True(cleared.Opened.LandingDomains.IsEmpty);
    }

    [Fact]
    public void Given_a_current_version_when_a_change_is_effective_before_its_start_then_it_is_rejected_with_the_reason()
    {
        var decision = CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Jan1.AddDays(-1), Status: CampaignStatus.Paused), newKey: 11);

        var rejected = Assert.IsType<Scd2Decision.Rejected>(decision);
        Assert.Contains("before the current version's start", rejected.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_current_version_when_a_change_is_effective_at_its_very_start_then_it_is_corrected_in_place()
    {
        var decision = CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", Jan1, Status: CampaignStatus.Paused), newKey: 11);

        var corrected = Assert.IsType<Scd2Decision.Corrected>(decision);
        Assert.Equal(Spring with { Status = CampaignStatus.Paused }, corrected.After);
    }

    [Theory]
    [InlineData(null, "name")]
    [InlineData(-1, "negative")]
    public void Given_an_invalid_change_when_decided_then_it_is_rejected_not_thrown(int? budget, string reason)
    {
        var change = budget is null
            ? new CampaignChange("cmp-9", Jan1, BudgetAmount: 5m, BudgetType: "DAILY", Status: CampaignStatus.Active)
            : new CampaignChange("cmp-1", Feb1, BudgetAmount: budget);

        var decision = CampaignScd2.Decide(budget is null ? null : Spring, change, newKey: 11);

        Assert.Contains(reason, Assert.IsType<Scd2Decision.Rejected>(decision).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_change_in_another_time_zone_when_applied_then_the_stored_times_are_utc()
    {
        var inParis = new DateTimeOffset(2025, 2, 1, 1, 0, 0, TimeSpan.FromHours(1));

        var superseded = Assert.IsType<Scd2Decision.Superseded>(CampaignScd2.Decide(Spring, new CampaignChange("cmp-1", inParis, Name: "Renamed"), newKey: 11));

        Assert.Equal(TimeSpan.Zero, superseded.Opened.StartTs.Offset);
        Assert.Equal(TimeSpan.Zero, superseded.Closed.EndTs.Offset);
        Assert.Equal(Feb1, superseded.Opened.StartTs);
    }

    [Fact]
    public void Given_unordered_changes_for_several_campaigns_when_merged_then_closes_and_opens_come_in_effective_time_order()
    {
        var keys = new KeySource(100);
        CampaignChange[] staged =
        [
            new("cmp-1", Mar1, Status: CampaignStatus.Paused),
            new("cmp-2", Feb1, "Launch", 50m, "LIFETIME", CampaignStatus.Active),
            new("cmp-1", Feb1, BudgetAmount: 250m),
        ];

        var result = CampaignScd2.Merge([Spring], staged, keys.Next);

        Assert.Equal(
            [
                (Scd2WriteKind.Close, 10L, Jan1, Feb1),
                (Scd2WriteKind.Open, 100L, Feb1, Mar1),
                (Scd2WriteKind.Open, 102L, Feb1, CampaignVersion.OpenEnd),
                (Scd2WriteKind.Open, 101L, Mar1, CampaignVersion.OpenEnd),
            ],
            result.Writes.Select(w => (w.Kind, w.Row.CampaignKey, w.Row.StartTs, w.Row.EndTs)));
        Assert.Empty(result.Rejections);
        Assert.Equal([101L, 102L], result.Current.Select(v => v.CampaignKey));
        Assert.Equal(CampaignStatus.Paused, result.Current[0].Status);
        Assert.Equal(250m, result.Current[0].BudgetAmount);
    }

    [Fact]
    public void Given_two_changes_at_one_instant_when_merged_then_they_make_one_version_in_sequence_order()
    {
        CampaignChange[] staged =
        [
            new("cmp-1", Feb1, BudgetAmount: 300m, Sequence: 2),
            new("cmp-1", Feb1, BudgetAmount: 200m, Status: CampaignStatus.Paused, Sequence: 1),
        ];

        var result = CampaignScd2.Merge([Spring], staged, new KeySource(20).Next);

        var opened = Assert.Single(result.Writes, w => w.Kind == Scd2WriteKind.Open).Row;
        Assert.Equal((300m, CampaignStatus.Paused), (opened.BudgetAmount, opened.Status));
        Assert.Equal(2, result.Writes.Count);
    }

    [Fact]
    public void Given_a_batch_with_a_backdated_change_when_merged_then_only_that_change_is_rejected()
    {
        CampaignChange[] staged = [new("cmp-1", Jan1.AddHours(-1), Name: "Too early"), new("cmp-1", Feb1, Name: "Fine")];

        var result = CampaignScd2.Merge([Spring], staged, new KeySource(20).Next);

        Assert.Equal("Too early", Assert.Single(result.Rejections).Change.Name);
        Assert.Equal("Fine", result.Current.Single().Name);
    }

    [Fact]
    public void Given_a_history_when_looked_up_at_a_boundary_then_the_instant_belongs_to_the_version_that_starts_there()
    {
        var result = CampaignScd2.Merge([Spring], [new("cmp-1", Feb1, BudgetAmount: 250m)], new KeySource(11).Next);
        var history = Apply([Spring], result);

        Assert.Equal(10, CampaignScd2.VersionAt(history, "cmp-1", Feb1.AddTicks(-1))?.CampaignKey);
        Assert.Equal(11, CampaignScd2.VersionAt(history, "cmp-1", Feb1)?.CampaignKey);
        Assert.Equal(10, CampaignScd2.VersionAt(history, "cmp-1", Jan1)?.CampaignKey);
        Assert.Null(CampaignScd2.VersionAt(history, "cmp-1", Jan1.AddTicks(-1)));
        Assert.Null(CampaignScd2.VersionAt(history, "cmp-2", Feb1));
        Assert.Empty(CampaignScd2.CheckHistory(history));
    }

    [Fact]
    public void Given_a_broken_history_when_checked_then_gaps_overlaps_and_current_flags_are_reported()
    {
        CampaignVersion[] history =
        [
            Spring with { EndTs = Feb1, IsCurrent = false },
            Spring with { CampaignKey = 11, StartTs = Feb1.AddDays(1), EndTs = Mar1, IsCurrent = false },
            Spring with { CampaignKey = 12, StartTs = Feb1.AddDays(20) },
        ];

        var problems = CampaignScd2.CheckHistory(history);

        Assert.Contains(problems, p => p.Contains("gap", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("overlap", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(CampaignStatus.Active, "ACTIVE")]
    [InlineData(CampaignStatus.Paused, "PAUSED")]
    public void Statuses_are_stored_as_their_upper_case_codes(CampaignStatus status, string code)
    {
        Assert.Equal(code, status.ToCode());
        Assert.True(CampaignStatusCodes.TryParse(code, out var parsed));
        Assert.Equal(status, parsed);
    }

    /// <summary>Applies a merge's writes the way the database would, checking each row is written once.</summary>
    internal static List<CampaignVersion> Apply(IEnumerable<CampaignVersion> table, Scd2MergeResult result)
    {
        var rows = table.ToDictionary(v => v.CampaignKey);
        var touched = new HashSet<long>();
        foreach (var write in result.Writes)
        {
            Assert.True(touched.Add(write.Row.CampaignKey), $"row {write.Row.CampaignKey} written twice");
            if (write.Kind == Scd2WriteKind.Open)
            {
                Assert.True(rows.TryAdd(write.Row.CampaignKey, write.Row), $"row {write.Row.CampaignKey} inserted over an existing one");
            }
            else
            {
                Assert.True(rows.ContainsKey(write.Row.CampaignKey), $"row {write.Row.CampaignKey} updated but absent");
                rows[write.Row.CampaignKey] = write.Row;
            }
        }

        return [.. rows.Values];
    }

    internal sealed class KeySource(long first)
    {
        private long _next = first;

        public long Next() => _next++;
    }
}
