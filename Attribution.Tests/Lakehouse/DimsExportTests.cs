using System.Globalization;
using System.Text.Json;
using Attribution.Domain.Billing;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Projections.Campaigns;
using Attribution.Projections.Users;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Lakehouse;

/// <summary>
/// dims.dim_campaigns in the warehouse (issue 21 item 3): one Iceberg snapshot per SCD2 merge, every version, and
/// design 000 §3.3's point-in-time SQL run unchanged by DuckDB over the warehouse's gold and dims namespaces.
/// </summary>
public sealed class DimsExportTests
{
    private static readonly TimeSpan Micro = TimeSpan.FromTicks(10);

    /// <summary>Design 000 §3.4's query pattern, as the design writes it.</summary>
    internal const string DesignPointInTimeSql = """
        SELECT 
            f.impression_id, 
            d.budget_amount as budget_at_time_of_impression
        FROM gold.ad_performance_state f
        JOIN dims.dim_campaigns d 
          ON f.campaign_id = d.campaign_id 
          AND f.impression_time >= d.start_ts 
          AND f.impression_time < d.end_ts
        """;

    internal static JsonElement Query(LakehouseHost host, string sql) => NodeReaders.Run("query-warehouse.mjs", host.Warehouse, sql);

    [Fact]
    public async Task Each_SCD2_merge_is_one_snapshot_and_the_designs_point_in_time_SQL_returns_the_budget_in_force_at_each_impression()
    {
        await using var host = await LakehouseHost.StartAsync("dimsexp");
        var campaigns = host.Services.GetRequiredService<CampaignDimension>();
        var t0 = new DateTimeOffset(T0);

        // Merge 1 and 2: direct changes, each exported before the next.
        await campaigns.ChangeAsync(new CampaignChange("camp-a", t0.AddHours(-1), "A", 100m, "DAILY", CampaignStatus.Active), CancellationToken.None);
        Assert.Equal(1, (await host.RunOkAsync("export-dims")).RowsTouched);
        await campaigns.ChangeAsync(new CampaignChange("camp-a", t0.AddHours(1), BudgetAmount: 200m), CancellationToken.None);
        Assert.Equal(2, (await host.RunOkAsync("export-dims")).RowsTouched); // the closed version and the opened one
        // Merge 3: a staged batch over both campaigns, one transaction.
        await campaigns.StageAsync([
            new CampaignChange("camp-a", t0.AddHours(2), BudgetAmount: 300m),
            new CampaignChange("camp-b", t0.AddHours(-1), "B", 50m, "LIFETIME", CampaignStatus.Active),
            new CampaignChange("camp-b", t0.AddMinutes(30), Status: CampaignStatus.Paused, BudgetAmount: 75m, BillingModel: BillingModel.Cpc, CpcRate: 0.4m),
        ], CancellationToken.None);
        await campaigns.MergeStagedAsync(CancellationToken.None);
        Assert.Equal(4, (await host.RunOkAsync("export-dims")).RowsTouched); // camp-a: closed, opened; camp-b: two opened
        // A change that repeats the current version opens nothing, so there is nothing to export.
        await campaigns.ChangeAsync(new CampaignChange("camp-a", t0.AddHours(3), BudgetAmount: 300m), CancellationToken.None);
        Assert.Equal(0, (await host.RunOkAsync("export-dims")).RowsTouched);

        var table = host.Catalog.Open(LakehouseTables.DimCampaigns);
        var snapshots = table.Snapshots().OrderBy(s => s.SequenceNumber).ToList();
        Assert.Equal(["overwrite", "overwrite", "overwrite"], snapshots.Select(s => s.Operation));
        var merges = snapshots.Select(s => long.Parse(s.Summary["attribution.merge-seq-to"], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(merges.Order().Distinct(), merges);
        Assert.Equal(5, snapshots[^1].TotalRecords);

        // Every version, current and closed, as PostgreSQL holds it, read by DuckDB through the table's manifests.
        var history = await campaigns.AllVersionsAsync(CancellationToken.None);
        var read = Query(host, """
            SELECT campaign_key, campaign_id, name, budget_amount, budget_type, status, epoch_us(start_ts) AS start_us,
                   epoch_us(end_ts) AS end_us, is_current, landing_domains, billing_model, cpc_rate
            FROM dims.dim_campaigns ORDER BY campaign_key
            """).GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(history.Count, read.Count);
        foreach (var (want, actual) in history.OrderBy(v => v.CampaignKey).Zip(read))
        {
            Assert.Equal(want.CampaignKey.ToString(CultureInfo.InvariantCulture), actual.GetProperty("campaign_key").ToString());
            Assert.Equal(want.CampaignId, actual.GetProperty("campaign_id").GetString());
            Assert.Equal(want.Name, actual.GetProperty("name").GetString());
            Assert.Equal((double)want.BudgetAmount, actual.GetProperty("budget_amount").GetDouble());
            Assert.Equal(want.BudgetType, actual.GetProperty("budget_type").GetString());
            Assert.Equal(want.Status.ToCode(), actual.GetProperty("status").GetString());
            Assert.Equal(Micros(want.StartTs), actual.GetProperty("start_us").ToString());
            Assert.Equal(Micros(want.EndTs), actual.GetProperty("end_us").ToString());
            Assert.Equal(want.IsCurrent, actual.GetProperty("is_current").GetBoolean());
            Assert.Equal(string.Join(',', want.LandingDomains.Entries), actual.GetProperty("landing_domains").GetString());
            Assert.Equal(want.BillingModel.ToCode(), actual.GetProperty("billing_model").GetString());
            Assert.Equal(want.CpcRate is { } rate ? (double?)rate : null, actual.GetProperty("cpc_rate").ValueKind == JsonValueKind.Null ? null : actual.GetProperty("cpc_rate").GetDouble());
        }

        Assert.Equal(Micros(CampaignVersion.OpenEnd), read.Single(r => r.GetProperty("campaign_key").ToString() == history
            .Single(v => v is { CampaignId: "camp-a", IsCurrent: true }).CampaignKey.ToString(CultureInfo.InvariantCulture)).GetProperty("end_us").ToString());

        // Impressions on both sides of every boundary, and one before camp-a existed (no version: no row in the join).
        TimeSpan[] aTimes = [TimeSpan.FromHours(-2), TimeSpan.FromMinutes(-30), TimeSpan.FromHours(1) - Micro, TimeSpan.FromHours(1),
            TimeSpan.FromMinutes(90), TimeSpan.FromHours(2) - Micro, TimeSpan.FromHours(2), TimeSpan.FromHours(5)];
        TimeSpan[] bTimes = [TimeSpan.FromHours(-1), TimeSpan.FromMinutes(30) - Micro, TimeSpan.FromMinutes(30), TimeSpan.FromHours(4)];
        await host.ApplyAsync([
            .. aTimes.Select((t, i) => Impression($"pa-{i}", $"pa-e{i}", t, campaign: "camp-a")),
            .. bTimes.Select((t, i) => Impression($"pb-{i}", $"pb-e{i}", t, campaign: "camp-b")),
        ]);
        await host.RunOkAsync("export-gold");

        var expected = aTimes.Select((t, i) => ($"pa-{i}", "camp-a", t)).Concat(bTimes.Select((t, i) => ($"pb-{i}", "camp-b", t)))
            .Select(x => (Id: x.Item1, Version: CampaignScd2.VersionAt(history, x.Item2, t0 + x.Item3)))
            .Where(x => x.Version is not null)
            .ToDictionary(x => x.Id, x => (double)x.Version!.BudgetAmount, StringComparer.Ordinal);
        Assert.Equal(11, expected.Count);
        Assert.Equal([100d, 100d, 200d, 200d, 200d, 300d, 300d], Enumerable.Range(1, 7).Select(i => expected[$"pa-{i}"]));
        Assert.Equal([50d, 50d, 75d, 75d], Enumerable.Range(0, 4).Select(i => expected[$"pb-{i}"]));

        var joined = Query(host, DesignPointInTimeSql);
        Assert.Equal(["dims.dim_campaigns", "gold.ad_performance_state"], joined.GetProperty("tables").EnumerateObject().Select(t => t.Name).Order(StringComparer.Ordinal));
        var got = joined.GetProperty("rows").EnumerateArray()
            .ToDictionary(r => r.GetProperty("impression_id").GetString()!, r => r.GetProperty("budget_at_time_of_impression").GetDouble(), StringComparer.Ordinal);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), got.OrderBy(e => e.Key, StringComparer.Ordinal));

        // A merge the export has not seen yet stays invisible to the join until its snapshot is committed.
        await campaigns.ChangeAsync(new CampaignChange("camp-b", t0.AddHours(3), BudgetAmount: 80m), CancellationToken.None);
        Assert.Equal(75d, Query(host, DesignPointInTimeSql + " WHERE f.impression_id = 'pb-3'").GetProperty("rows")[0].GetProperty("budget_at_time_of_impression").GetDouble());
        await host.RunOkAsync("export-dims");
        Assert.Equal(80d, Query(host, DesignPointInTimeSql + " WHERE f.impression_id = 'pb-3'").GetProperty("rows")[0].GetProperty("budget_at_time_of_impression").GetDouble());
    }

    [Fact]
    public async Task Dim_users_holds_every_version_one_snapshot_per_batch_and_joins_Gold_at_the_impression_time_in_DuckDB()
    {
        await using var host = await LakehouseHost.StartAsync("dimsusr");
        var users = host.Services.GetRequiredService<UserDimension>();
        var t0 = new DateTimeOffset(T0);
        UserProfile Profile(string age, params string[] interests) =>
            UserProfile.TryCreate(age, "female", "DE", interests, "gold", out var p, out var error) ? p : throw new ArgumentException(error);

        await users.MergeAsync([
            new UserChange("u-1", t0.AddHours(-1), Profile("25-34", "travel", "cooking")),
            new UserChange("u-2", t0.AddHours(-1), Profile("18-24")),
        ], CancellationToken.None);
        await host.RunOkAsync("export-dims");
        await users.MergeAsync([
            new UserChange("u-1", t0.AddHours(1), Profile("35-44", "travel")),
            new UserChange("u-2", t0.AddHours(1), Profile("18-24")), // unchanged: no version
        ], CancellationToken.None);
        await host.RunOkAsync("export-dims");

        var table = host.Catalog.Open(LakehouseTables.DimUsers);
        Assert.Equal(["overwrite", "overwrite"], table.Snapshots().OrderBy(s => s.SequenceNumber).Select(s => s.Operation));
        var history = (await users.HistoryAsync("u-1", CancellationToken.None)).Concat(await users.HistoryAsync("u-2", CancellationToken.None)).ToList();
        Assert.Empty(Scd2.CheckHistory(history));
        var read = Query(host, """
            SELECT user_key, user_id, age_band, interests, epoch_us(start_ts) AS start_us, epoch_us(end_ts) AS end_us, is_current
            FROM dims.dim_users ORDER BY user_key
            """).GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(3, read.Count);
        foreach (var (want, actual) in history.OrderBy(v => v.UserKey).Zip(read))
        {
            Assert.Equal(want.UserKey.ToString(CultureInfo.InvariantCulture), actual.GetProperty("user_key").ToString());
            Assert.Equal((want.UserId, want.Profile.AgeBand, string.Join(',', want.Profile.Interests)),
                (actual.GetProperty("user_id").GetString(), actual.GetProperty("age_band").GetString(), actual.GetProperty("interests").GetString()));
            Assert.Equal((Micros(want.StartTs), Micros(want.EndTs), want.IsCurrent),
                (actual.GetProperty("start_us").ToString(), actual.GetProperty("end_us").ToString(), actual.GetProperty("is_current").GetBoolean()));
        }

        // The audience's point-in-time join, written against the warehouse: u-1's impressions before T0+1h are 25-34.
        TimeSpan[] at = [TimeSpan.FromMinutes(-30), TimeSpan.FromHours(1) - Micro, TimeSpan.FromHours(1), TimeSpan.FromHours(2)];
        await host.ApplyAsync([.. at.Select((t, i) => Impression($"pu-{i}", $"pu-e{i}", t, user: "u-1")), Impression("pu-x", "pu-ex", TimeSpan.Zero, user: "u-9")]);
        await host.RunOkAsync("export-gold");
        var bands = Query(host, """
            SELECT f.impression_id, coalesce(u.age_band, 'unknown') AS age_band
            FROM gold.ad_performance_state f
            LEFT JOIN dims.dim_users u
              ON f.user_id = u.user_id AND f.impression_time >= u.start_ts AND f.impression_time < u.end_ts
            ORDER BY f.impression_id
            """).GetProperty("rows").EnumerateArray().Select(r => (r.GetProperty("impression_id").GetString(), r.GetProperty("age_band").GetString()));
        Assert.Equal([("pu-0", "25-34"), ("pu-1", "25-34"), ("pu-2", "35-44"), ("pu-3", "35-44"), ("pu-x", "unknown")], bands);
    }

    private static string Micros(DateTimeOffset t) => ((t.UtcTicks - DateTime.UnixEpoch.Ticks) / 10).ToString(CultureInfo.InvariantCulture);
}
