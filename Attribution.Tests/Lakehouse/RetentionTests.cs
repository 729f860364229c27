using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Gold;
using Attribution.Projections.Jobs;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Lakehouse;

/// <summary>Retention drops whole, exported, old impressions from the event store; dedup and Gold stay whole.</summary>
public sealed class RetentionTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);

    /// <summary>Retention as the job runs it, with a clock 60 days ahead: the cutoff falls 30 days from now.</summary>
    private static EventRetention Retention(LakehouseHost host, DateTimeOffset now) => new(
        host.DataSource, host.Services.GetRequiredService<AttributionConfigStore>(), host.Services.GetRequiredService<ExportStateStore>(),
        Options.Create(new RetentionOptions { Days = 30, BatchImpressions = 2, ScanPageRows = 100 }), new ManualClock(now.AddDays(60)),
        NullLogger<EventRetention>.Instance);

    [Fact]
    public async Task Only_old_and_exported_impressions_are_retired_and_their_late_events_are_audited_not_folded()
    {
        await using var host = await LakehouseHost.StartAsync("retention");
        var now = DateTimeOffset.UtcNow;
        var recent = (now.AddDays(40) - T0).Duration(); // after the cutoff
        await host.ApplyAsync(
            Impression("i-old-1", "e-1", 0 * S), Click("i-old-1", "c-old-1", 10 * S),
            Impression("i-old-2", "e-2", 5 * S),
            Impression("i-old-3", "e-3", 7 * S),
            Impression("i-recent", "e-4", 0 * S), Click("i-recent", "c-recent", recent));
        await host.RunOkAsync("export-bronze");
        await host.RunOkAsync("export-gold");
        // i-old-3 changes after the Gold export: Bronze has all of it, Gold does not have its current row.
        await host.ApplyAsync(Click("i-old-3", "c-old-3", 20 * S));
        await host.RunOkAsync("export-bronze");
        // Never exported at all.
        await host.ApplyAsync(Impression("i-new", "e-5", 0 * S));
        var gold = await Db.GoldSnapshotAsync(host.DataSource);

        var result = await Retention(host, now).RunAsync(null, CancellationToken.None);

        Assert.Equal(2, result.Impressions);
        Assert.Equal(3, result.Events);
        Assert.Equal(0, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM events WHERE stream_id IN ('i-old-1', 'i-old-2')"));
        Assert.Equal(5, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM events WHERE stream_id IN ('i-old-3', 'i-recent', 'i-new')"));
        Assert.Equal(2, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM retired_impressions"));
        Assert.Equal(3, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM retired_event_ids"));
        Assert.Equal(gold, await Db.GoldSnapshotAsync(host.DataSource)); // Gold keeps every row
        Assert.Equal(0, (await Retention(host, now).RunAsync(null, CancellationToken.None)).Impressions); // nothing left to do
        // i-old-1 is recorded as retired, with the two events it had and the time of the last (its click).
        Assert.NotNull(await RetiredImpressions.RetiredAtAsync(host.DataSource, "i-old-1", CancellationToken.None));
        Assert.Equal(1, await Db.CountAsync(host.DataSource,
            "SELECT count(*) FROM retired_impressions WHERE impression_id = 'i-old-1' AND events = 2 AND last_event_time = $1", T0.AddSeconds(10)));
        Assert.Null(await RetiredImpressions.RetiredAtAsync(host.DataSource, "i-recent", CancellationToken.None));

        // Dedup is forever: a redelivery of a retired event is a duplicate.
        var again = await host.ApplyAsync(Impression("i-old-1", "e-1", 0 * S));
        Assert.Equal(1, again.Duplicates);

        // A late conversion for a retired impression is audited with its payload, never folded onto a partial history.
        var late = await host.ApplyAsync(Conversion("i-old-1", "cv-late", 60 * S, 9m));
        Assert.Equal(0, late.Applied);
        Assert.Equal(1, await Db.CountAsync(host.DataSource,
            "SELECT count(*) FROM audit_log WHERE event_id = 'cv-late' AND reason = 'RETIRED_IMPRESSION' AND impression_id = 'i-old-1' AND raw_payload LIKE '%cv-late%'"));
        Assert.Equal(0, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM events WHERE stream_id = 'i-old-1'"));

        // A postback naming a retired click still finds its impression (and is audited, not parked for ever).
        var postback = await host.ApplyAsync(Conversion(null, "cv-postback", 90 * S, 4m, clickId: "c-old-1"));
        Assert.Equal(0, postback.Parked);
        Assert.Equal(0, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM pending_conversions"));
        Assert.Equal(1, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM audit_log WHERE event_id = 'cv-postback' AND reason = 'RETIRED_IMPRESSION'"));
        Assert.Equal(1, (await host.ApplyAsync(Conversion("i-old-1", "cv-late", 60 * S, 9m))).Duplicates);
        Assert.Equal(gold, await Db.GoldSnapshotAsync(host.DataSource));

        // A replay re-derives what the event store still holds and keeps the rows of retired impressions.
        await host.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(null, CancellationToken.None);
        Assert.Equal(gold, await Db.GoldSnapshotAsync(host.DataSource));
    }

    [Fact]
    public async Task Retention_shorter_than_the_lookback_refuses_to_run()
    {
        await using var host = await LakehouseHost.StartAsync("retshort", new Dictionary<string, string?> { ["Retention:Days"] = "3" });
        await host.ApplyAsync(Impression("i-1", "e-1", 0 * S));
        await host.RunOkAsync("export-bronze");

        var run = await host.RunAsync("retention");

        Assert.Equal(MaintenanceJobs.Failed, run.Outcome);
        Assert.Contains("lookback", run.Error, StringComparison.Ordinal);
        Assert.Equal(1, await Db.CountAsync(host.DataSource, "SELECT count(*) FROM events"));
    }
}
