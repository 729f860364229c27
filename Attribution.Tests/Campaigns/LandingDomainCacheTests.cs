using Attribution.Domain.Campaigns;
using Attribution.Domain.Tracking;
using Attribution.Projections;
using Attribution.Projections.Campaigns;
using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Attribution.Tests.Campaigns;

/// <summary>/click's landing domains from memory (issue 19): the version in force at the click, this instance's writes
/// at once, other instances' at the next read, and what it holds kept while PostgreSQL is away.</summary>
public sealed class LandingDomainCacheTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static LandingDomains Domains(params string[] entries) =>
        LandingDomains.TryParse(entries, out var domains, out var error) ? domains : throw new ArgumentException(error);

    private static CampaignVersion Version(long key, string campaign, DateTimeOffset start, DateTimeOffset end, LandingDomains domains) =>
        new(key, campaign, "N", 1m, "DAILY", CampaignStatus.Active, start, end, end == CampaignVersion.OpenEnd) { LandingDomains = domains };

    [Fact]
    public void Given_a_current_version_that_starts_later_when_a_click_comes_before_it_then_the_version_in_force_then_answers()
    {
        var cache = new LandingDomainCache(NpgsqlDataSource.Create("Host=127.0.0.1;Port=1"), new FixedClock(T0));
        // Written here: the version in force until T0+1h, and the current one that starts then.
        cache.Apply([Version(1, "c", T0.AddHours(-1), T0.AddHours(1), Domains("old.example")), Version(2, "c", T0.AddHours(1), CampaignVersion.OpenEnd, Domains("new.example"))]);

        Assert.Equal(Domains("old.example"), cache.At("c", T0));
        Assert.Equal(Domains("new.example"), cache.At("c", T0.AddHours(1)));
        Assert.Null(cache.At("c", T0.AddHours(-2)));
        Assert.Null(cache.At("other", T0));

        // A correction of the current version (same key) replaces it.
        cache.Apply([Version(2, "c", T0.AddHours(1), CampaignVersion.OpenEnd, LandingDomains.Empty)]);
        Assert.True(cache.At("c", T0.AddHours(2))!.IsEmpty);
    }

    [Fact]
    public async Task Given_what_the_cache_holds_when_postgresql_cannot_be_reached_then_a_refresh_fails_as_an_outage_and_clicks_are_still_answered()
    {
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=postgres;Timeout=2");
        var cache = new LandingDomainCache(unreachable, TimeProvider.System);
        cache.Apply([Version(1, "c", T0, CampaignVersion.OpenEnd, Domains("shop.example"))]);

        var outage = await Assert.ThrowsAnyAsync<Exception>(() => cache.RefreshAsync(CancellationToken.None));

        Assert.True(PostgresOutage.IsUnavailable(outage), outage.ToString());
        Assert.True(cache.At("c", DateTimeOffset.UtcNow)!.Allows("shop.example"));
        Assert.False(cache.Loaded);
    }

    [Fact]
    public async Task Given_two_instances_on_one_database_when_one_changes_a_campaign_then_its_own_cache_has_it_at_once_and_the_other_after_a_read()
    {
        var connectionString = TestPostgres.NewDatabase("landing-cache");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);
            await using var db = NpgsqlDataSource.Create(connectionString);
            await SchemaMigrator.MigrateAsync(db, NullLogger.Instance);
            var (cacheA, cacheB) = (new LandingDomainCache(db, TimeProvider.System), new LandingDomainCache(db, TimeProvider.System));
            var (a, b) = (new CampaignDimension(db, cacheA), new CampaignDimension(db, cacheB));
            Assert.True(await cacheB.RefreshAsync(CancellationToken.None));

            await a.ChangeAsync(new CampaignChange("c", DateTimeOffset.UtcNow.AddMinutes(-1), "N", 1m, "DAILY", CampaignStatus.Active, LandingDomains: Domains("shop.example")), CancellationToken.None);
            await b.StageAsync([new CampaignChange("d", DateTimeOffset.UtcNow.AddMinutes(-1), "M", 1m, "DAILY", CampaignStatus.Active, LandingDomains: Domains("*.brand.example"))], CancellationToken.None);
            await b.MergeStagedAsync(CancellationToken.None);

            var now = DateTimeOffset.UtcNow;
            Assert.Equal(Domains("shop.example"), cacheA.At("c", now));
            Assert.Null(cacheB.At("c", now));
            Assert.Equal(Domains("*.brand.example"), cacheB.At("d", now));
            Assert.Null(cacheA.At("d", now));

            Assert.True(await cacheB.RefreshAsync(CancellationToken.None));
            Assert.True(await cacheA.RefreshAsync(CancellationToken.None));
            Assert.Equal(Domains("shop.example"), cacheB.At("c", now));
            Assert.Equal(Domains("*.brand.example"), cacheA.At("d", now));
            Assert.True(cacheA.Loaded);

            // A write of this instance while a read is on its way: the read may predate it, so it is not taken. The
            // table lock holds the read until the write is done (a read on loopback may otherwise finish at once).
            await using var blocker = await db.OpenConnectionAsync();
            await using var hold = await blocker.BeginTransactionAsync();
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE dim_campaigns IN ACCESS EXCLUSIVE MODE", blocker, hold))
                await lockTable.ExecuteNonQueryAsync();
            var reading = cacheA.RefreshAsync(CancellationToken.None);
            cacheA.Apply([Version(9001, "e", now.AddMinutes(-1), CampaignVersion.OpenEnd, Domains("only-here.example"))]);
            await hold.CommitAsync();
            Assert.False(await reading);
            Assert.Equal(Domains("only-here.example"), cacheA.At("e", now));
            Assert.Equal(Domains("shop.example"), cacheA.At("c", now));
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
