using Attribution.Tests.Fixtures;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Tracking;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Campaigns;

public class CampaignScd2PropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly DateTimeOffset Base = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Campaigns = ["cmp-1", "cmp-2", "cmp-3"];

    // cmp-1 exists before the batch, from hour 5, so changes before that are backdated; the others are new.
    private static readonly CampaignVersion Existing = new(1, "cmp-1", "Existing", 10m, "DAILY", CampaignStatus.Active, Base.AddHours(5), CampaignVersion.OpenEnd, IsCurrent: true);

    private static Gen<T?> Maybe<T>(Gen<T> gen) where T : class => Gen.Frequency((1, Gen.Constant<T?>(null)), (1, gen.Select(v => (T?)v)));

    // Lists spelled differently but equal once read (case, order), so "unchanged" is common for landing domains too.
    private static readonly LandingDomains[] DomainLists =
    [
        LandingDomains.Empty, Domains("shop.example"), Domains("SHOP.example"), Domains("*.brand.example", "shop.example"),
        Domains("shop.example", "*.brand.example"),
    ];

    private static LandingDomains Domains(params string[] entries) =>
        LandingDomains.TryParse(entries, out var domains, out var error) ? domains : throw new ArgumentException(error);

    private static Gen<T?> MaybeValue<T>(Gen<T> gen) where T : struct => Gen.Frequency((1, Gen.Constant<T?>(null)), (1, gen.Select(v => (T?)v)));

    // Few hours, names and budgets, so same-instant changes, no-op changes and backdated ones are all common.
    private static readonly Gen<CampaignChange> ChangeGen =
        from campaign in Gen.Elements(Campaigns)
        from hour in Gen.Choose(0, 12)
        from name in Maybe(Gen.Elements("Spring", "Summer"))
        from budget in MaybeValue(Gen.Elements(100m, 100.00m, 250m, -5m))
        from budgetType in Maybe(Gen.Elements("DAILY", "LIFETIME"))
        from status in MaybeValue(Gen.Elements(CampaignStatus.Active, CampaignStatus.Paused))
        from sequence in Gen.Choose(0, 3)
        from domains in Maybe(Gen.Elements(DomainLists))
        select new CampaignChange(campaign, Base.AddHours(hour), name, budget, budgetType, status, sequence, domains);

    private static readonly Gen<CampaignChange[]> ChangesGen = Gen.Choose(0, 25).SelectMany(n => Gen.ArrayOf(ChangeGen, n));

    [Fact]
    public void Any_sequence_of_batches_leaves_a_history_with_no_gap_no_overlap_and_one_current_version_per_campaign()
    {
        // Batches in any order, so later batches often hold changes that are backdated by then.
        var batches = Gen.ListOf(ChangesGen.Select(c => c.Take(8).ToArray())).Select(b => b.Take(5).ToList());

        Seeded.Check(Runs, Prop.ForAll(batches.ToArbitrary(), sequence =>
        {
            var keys = new CampaignScd2Tests.KeySource(100);
            var table = new List<CampaignVersion> { Existing };
            foreach (var batch in sequence)
            {
                var result = CampaignScd2.Merge(table.Where(v => v.IsCurrent), batch, keys.Next);
                table = CampaignScd2Tests.Apply(table, result);
                Assert.Equal(table.Where(v => v.IsCurrent).OrderBy(v => v.CampaignId, StringComparer.Ordinal), result.Current);
            }

            Assert.Empty(CampaignScd2.CheckHistory(table));
            Assert.All(table.GroupBy(v => v.CampaignId), g => Assert.Single(g, v => v.IsCurrent));
        }));
    }

    [Fact]
    public void One_merge_gives_at_every_instant_the_attributes_of_the_accepted_changes_up_to_then()
    {
        Seeded.Check(Runs, Prop.ForAll(ChangesGen.ToArbitrary(), changes =>
        {
            var result = CampaignScd2.Merge([Existing], changes, new CampaignScd2Tests.KeySource(100).Next);
            var history = CampaignScd2Tests.Apply([Existing], result);

            Assert.Empty(CampaignScd2.CheckHistory(history));
            foreach (var campaign in Campaigns)
            {
                for (var hour = -1; hour <= 13; hour++)
                {
                    var t = Base.AddHours(hour);
                    var expected = Replay(campaign, changes, t);
                    var actual = CampaignScd2.VersionAt(history, campaign, t);
                    Assert.Equal(expected, actual is null ? null : (actual.Name, actual.BudgetAmount, actual.BudgetType, actual.Status, actual.LandingDomains));
                }
            }
        }));
    }

    [Fact]
    public void Every_version_is_found_at_its_own_start_and_not_at_its_end()
    {
        Seeded.Check(Runs, Prop.ForAll(ChangesGen.ToArbitrary(), changes =>
        {
            var history = CampaignScd2Tests.Apply([Existing], CampaignScd2.Merge([Existing], changes, new CampaignScd2Tests.KeySource(100).Next));

            return history.All(v =>
                CampaignScd2.VersionAt(history, v.CampaignId, v.StartTs) == v
                && CampaignScd2.VersionAt(history, v.CampaignId, v.EndTs) != v);
        }));
    }

    [Fact]
    public void Merging_time_ordered_batches_one_by_one_gives_the_same_history_as_one_merge()
    {
        var split = ChangesGen.SelectMany(changes => Gen.Choose(0, 12).Select(cut => (changes, cut)));

        Seeded.Check(Runs, Prop.ForAll(split.ToArbitrary(), input =>
        {
            var (changes, cut) = input;
            var whole = CampaignScd2Tests.Apply([Existing], CampaignScd2.Merge([Existing], changes, new CampaignScd2Tests.KeySource(100).Next));

            var keys = new CampaignScd2Tests.KeySource(100);
            var first = CampaignScd2Tests.Apply([Existing], CampaignScd2.Merge([Existing], changes.Where(c => c.EffectiveAt < Base.AddHours(cut)), keys.Next));
            var second = CampaignScd2Tests.Apply(first, CampaignScd2.Merge(first.Where(v => v.IsCurrent), changes.Where(c => c.EffectiveAt >= Base.AddHours(cut)), keys.Next));

            return Shape(whole).SequenceEqual(Shape(second));
        }));
    }

    [Fact]
    public void A_change_that_repeats_the_current_attributes_never_writes()
    {
        var gen = from hour in Gen.Choose(5, 12) from budget in Gen.Elements(10m, 10.0m, 10.000m) select new CampaignChange("cmp-1", Base.AddHours(hour), "Existing", budget, "DAILY", CampaignStatus.Active);

        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), change =>
        {
            var result = CampaignScd2.Merge([Existing], [change], () => throw new InvalidOperationException("no key needed"));

            return result.Writes.Count == 0 && result.Rejections.Count == 0 && result.Current.Single() == Existing;
        }));
    }

    // The reference semantics, written independently: changes of a campaign in (time, sequence, input) order,
    // combined per instant; a change is dropped when backdated, incomplete for a new campaign, or invalid.
    private static (string, decimal, string, CampaignStatus, LandingDomains)? Replay(string campaign, IEnumerable<CampaignChange> changes, DateTimeOffset t)
    {
        (string Name, decimal Budget, string Type, CampaignStatus Status, LandingDomains Domains)? state = campaign == Existing.CampaignId
            ? (Existing.Name, Existing.BudgetAmount, Existing.BudgetType, Existing.Status, Existing.LandingDomains)
            : null;
        var start = campaign == Existing.CampaignId ? Existing.StartTs : (DateTimeOffset?)null;
        var (validFrom, stateAtT) = (start, start <= t ? state : null);

        var instants = changes
            .Select((c, i) => (c, i))
            .Where(x => x.c.CampaignId == campaign)
            .OrderBy(x => x.c.EffectiveAt).ThenBy(x => x.c.Sequence).ThenBy(x => x.i)
            .GroupBy(x => x.c.EffectiveAt);
        foreach (var instant in instants)
        {
            if (validFrom is { } from && instant.Key < from)
            {
                continue;
            }

            var name = state?.Name;
            var budget = state?.Budget;
            var type = state?.Type;
            var status = state?.Status;
            var domains = state?.Domains;
            foreach (var (c, _) in instant)
            {
                name = c.Name ?? name;
                budget = c.BudgetAmount ?? budget;
                type = c.BudgetType ?? type;
                status = c.Status ?? status;
                domains = c.LandingDomains ?? domains;
            }

            if (name is null || budget is null || type is null || status is null || budget < 0)
            {
                continue;
            }

            // Landing domains are optional: a new campaign without any has an empty list.
            state = (name, budget.Value, type, status.Value, domains ?? LandingDomains.Empty);
            validFrom = instant.Key;
            if (instant.Key <= t)
            {
                stateAtT = state;
            }
        }

        return stateAtT;
    }

    private static IEnumerable<string> Shape(IEnumerable<CampaignVersion> history) => history
        .OrderBy(v => v.CampaignId, StringComparer.Ordinal).ThenBy(v => v.StartTs)
        .Select(v => $"{v.CampaignId} {v.Name} {v.BudgetAmount:0.##} {v.BudgetType} {v.Status} {v.LandingDomains} {v.StartTs:O} {v.EndTs:O} {v.IsCurrent}");
}
