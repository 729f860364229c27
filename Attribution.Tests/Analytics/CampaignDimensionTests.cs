using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Attribution.Domain.Campaigns;
using Attribution.Projections.Campaigns;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Analytics;

/// <summary>dim_campaigns through the API: history without gap or overlap, one current version, the staged merge, the
/// constraints that hold against any writer, and the point-in-time join at version boundaries.</summary>
public sealed class CampaignDimensionTests : IAsyncLifetime
{
    private static readonly TimeSpan Micro = TimeSpan.FromTicks(10);
    private readonly ApiFactory _api = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _api.CreateClient();
        _client.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        _api.Dispose();
        return Task.CompletedTask;
    }

    private CampaignDimension Campaigns => _api.Services.GetRequiredService<CampaignDimension>();

    private async Task<(HttpStatusCode Status, JsonElement Body)> Put(string id, object change)
    {
        var response = await _client.PutAsJsonAsync(new Uri($"/api/v1/campaigns/{id}", UriKind.Relative), change);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    [Fact]
    public async Task The_campaign_list_holds_the_current_version_of_every_campaign_in_id_order()
    {
        Assert.Equal(HttpStatusCode.Created, (await Put("camp-l2", new { name = "Two", budget_amount = 20, budget_type = "DAILY", status = "ACTIVE" })).Status);
        Assert.Equal(HttpStatusCode.Created, (await Put("camp-l1", new { name = "One", budget_amount = 10, budget_type = "LIFETIME", status = "ACTIVE" })).Status);
        Assert.Equal(HttpStatusCode.OK, (await Put("camp-l2", new { budget_amount = 25.5, status = "PAUSED" })).Status);

        var list = (await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/campaigns", UriKind.Relative))).EnumerateArray().ToList();

        Assert.Equal(["camp-l1", "camp-l2"], list.Select(c => c.GetProperty("campaign_id").GetString()));
        Assert.All(list, c => Assert.True(c.GetProperty("is_current").GetBoolean()));
        var (one, two) = (list[0], list[1]);
        Assert.Equal(("One", 10m, "LIFETIME", "ACTIVE"), (one.GetProperty("name").GetString(), one.GetProperty("budget_amount").GetDecimal(),
            one.GetProperty("budget_type").GetString(), one.GetProperty("status").GetString()));
        Assert.Equal(("Two", 25.5m, "DAILY", "PAUSED"), (two.GetProperty("name").GetString(), two.GetProperty("budget_amount").GetDecimal(),
            two.GetProperty("budget_type").GetString(), two.GetProperty("status").GetString()));
        // The version listed is the last of the campaign's history, the one that opened with the change.
        var history = (await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/campaigns/camp-l2/history", UriKind.Relative))).EnumerateArray().ToList();
        Assert.Equal(2, history.Count);
        Assert.Equal(history[^1].GetProperty("campaign_key").GetInt64(), two.GetProperty("campaign_key").GetInt64());
    }

    private static void AssertContiguous(IReadOnlyList<CampaignVersion> history)
    {
        Assert.Empty(CampaignScd2.CheckHistory(history));
        for (var i = 1; i < history.Count; i++) Assert.Equal(history[i - 1].EndTs, history[i].StartTs);
        Assert.Single(history, v => v.IsCurrent);
        Assert.Equal(CampaignVersion.OpenEnd, history[^1].EndTs);
    }

    [Fact]
    public async Task A_change_closes_the_current_version_and_opens_the_next_only_when_something_changed()
    {
        var created = await Put("camp-1", new { name = "Spring", budget_amount = 100, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });
        var repeated = await Put("camp-1", new { budget_amount = 100.00, status = "ACTIVE", effective_at = T0.AddHours(1) });
        var raised = await Put("camp-1", new { budget_amount = 250, effective_at = T0.AddHours(2) });
        var sameInstant = await Put("camp-1", new { name = "Spring sale", effective_at = T0.AddHours(2) });
        var paused = await Put("camp-1", new { status = "PAUSED", effective_at = T0.AddHours(5) });

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("unchanged", repeated.Body.GetProperty("outcome").GetString());
        Assert.Equal("superseded", raised.Body.GetProperty("outcome").GetString());
        Assert.Equal("corrected", sameInstant.Body.GetProperty("outcome").GetString());
        Assert.Equal(raised.Body.GetProperty("current").GetProperty("campaign_key").GetInt64(),
            sameInstant.Body.GetProperty("current").GetProperty("campaign_key").GetInt64());
        Assert.Equal("PAUSED", paused.Body.GetProperty("current").GetProperty("status").GetString());

        var history = await Campaigns.HistoryAsync("camp-1", CancellationToken.None);
        Assert.Equal([100m, 250m, 250m], history.Select(v => v.BudgetAmount));
        Assert.Equal(["Spring", "Spring sale", "Spring sale"], history.Select(v => v.Name));
        AssertContiguous(history);

        var current = JsonDocument.Parse(await _client.GetStringAsync(new Uri("/api/v1/campaigns/camp-1", UriKind.Relative))).RootElement;
        Assert.Equal("9999-12-31T00:00:00Z", current.GetProperty("end_ts").GetString());
        var listed = JsonDocument.Parse(await _client.GetStringAsync(new Uri("/api/v1/campaigns/camp-1/history", UriKind.Relative))).RootElement;
        Assert.Equal(3, listed.GetArrayLength());
    }

    [Fact]
    public async Task A_change_before_the_current_version_is_refused_and_history_is_untouched()
    {
        await Put("camp-2", new { name = "A", budget_amount = 10, budget_type = "LIFETIME", status = "ACTIVE", effective_at = T0.AddDays(1) });

        var backdated = await Put("camp-2", new { budget_amount = 20, effective_at = T0 });

        Assert.Equal(HttpStatusCode.BadRequest, backdated.Status);
        Assert.Single(await Campaigns.HistoryAsync("camp-2", CancellationToken.None));
    }

    [Fact]
    public async Task The_staged_batch_is_merged_as_one_scd2_merge_and_rejected_changes_are_kept_with_their_reason()
    {
        await Put("camp-3", new { name = "C", budget_amount = 50, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });
        var staged = await _client.PostAsJsonAsync(new Uri("/api/v1/campaigns:batch", UriKind.Relative), new
        {
            changes = new object[]
            {
                new { campaign_id = "camp-3", budget_amount = 60, effective_at = T0.AddHours(3) },
                new { campaign_id = "camp-3", status = "PAUSED", effective_at = T0.AddHours(3) },   // same instant: one version
                new { campaign_id = "camp-3", budget_amount = 60, effective_at = T0.AddHours(4) },  // repeats: nothing
                new { campaign_id = "camp-3", budget_amount = 70, effective_at = T0.AddHours(6) },
                new { campaign_id = "camp-4", name = "D", budget_amount = 5, budget_type = "LIFETIME", status = "ACTIVE", effective_at = T0 },
                new { campaign_id = "camp-5", name = "no budget yet", effective_at = T0 },          // new and incomplete: rejected
            },
        });
        Assert.Equal(HttpStatusCode.Accepted, staged.StatusCode);
        Assert.Empty(await Campaigns.HistoryAsync("camp-4", CancellationToken.None));

        var merge = await _client.PostAsync(new Uri("/api/v1/campaigns:merge", UriKind.Relative), null);
        var counts = JsonDocument.Parse(await merge.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(6, counts.GetProperty("staged").GetInt32());
        Assert.Equal(3, counts.GetProperty("opened").GetInt32());
        Assert.Equal(1, counts.GetProperty("rejected").GetInt32());
        var camp3 = await Campaigns.HistoryAsync("camp-3", CancellationToken.None);
        Assert.Equal([(50m, CampaignStatus.Active), (60m, CampaignStatus.Paused), (70m, CampaignStatus.Paused)], camp3.Select(v => (v.BudgetAmount, v.Status)));
        AssertContiguous(camp3);
        Assert.Empty(CampaignScd2.CheckHistory(await Campaigns.AllVersionsAsync(CancellationToken.None)));
        Assert.Equal(0, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_campaigns_staging"));
        Assert.Equal(1, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_campaigns_rejections WHERE campaign_id = 'camp-5' AND reason LIKE '%lacks%'"));

        var again = await Campaigns.MergeStagedAsync(CancellationToken.None);
        Assert.Equal(0, again.Staged);
    }

    [Fact]
    public async Task Landing_domains_are_an_scd2_attribute_kept_lowercase_in_punycode_and_shown_in_the_views_and_history()
    {
        var created = await Put("camp-ld", new { name = "L", budget_amount = 10, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });
        var set = await Put("camp-ld", new { landing_domains = new[] { "Shop.Example", "*.bücher.example" }, effective_at = T0.AddHours(1) });
        var respelled = await Put("camp-ld", new { landing_domains = new[] { "*.xn--bcher-kva.example", "shop.example", "SHOP.example" }, effective_at = T0.AddHours(2) });
        var renamed = await Put("camp-ld", new { name = "L2", effective_at = T0.AddHours(3) });
        var cleared = await Put("camp-ld", new { landing_domains = Array.Empty<string>(), effective_at = T0.AddHours(4) });

        static string[] Domains(JsonElement version) => version.GetProperty("landing_domains").EnumerateArray().Select(d => d.GetString()!).ToArray();
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Empty(Domains(created.Body.GetProperty("current")));
        Assert.Equal("superseded", set.Body.GetProperty("outcome").GetString());
        Assert.Equal(["*.xn--bcher-kva.example", "shop.example"], Domains(set.Body.GetProperty("current")));
        Assert.Equal("unchanged", respelled.Body.GetProperty("outcome").GetString());
        Assert.Equal(["*.xn--bcher-kva.example", "shop.example"], Domains(renamed.Body.GetProperty("current")));
        Assert.Empty(Domains(cleared.Body.GetProperty("current")));

        var history = (await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/campaigns/camp-ld/history", UriKind.Relative))).EnumerateArray().ToList();
        Assert.Equal([0, 2, 2, 0], history.Select(v => Domains(v).Length));
        var listed = (await _client.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/campaigns", UriKind.Relative))).EnumerateArray().Single(c => c.GetProperty("campaign_id").GetString() == "camp-ld");
        Assert.Empty(Domains(listed));
        AssertContiguous(await Campaigns.HistoryAsync("camp-ld", CancellationToken.None));
        Assert.Equal(["*.xn--bcher-kva.example", "shop.example"], (await Campaigns.HistoryAsync("camp-ld", CancellationToken.None))[1].LandingDomains.Entries);
    }

    [Theory]
    [InlineData("[\"https://shop.example\"]", "landing_domains[0] 'https://shop.example' is not a host name")]
    [InlineData("[\"ok.example\", \"*.com\"]", "landing_domains[1] '*.com': a wildcard needs at least two labels")]
    [InlineData("[\"shop.example.\"]", "the host ends with a dot")]
    [InlineData("[null]", "landing_domains[0] is empty")]
    public async Task A_change_with_landing_domains_that_are_not_hosts_is_refused_with_the_entry_and_nothing_is_written(string list, string detail)
    {
        await Put("camp-bad", new { name = "B", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });

        var response = await _client.PutAsync(new Uri("/api/v1/campaigns/camp-bad", UriKind.Relative),
            new StringContent($"{{\"landing_domains\": {list}}}", System.Text.Encoding.UTF8, "application/json"));
        var staged = await _client.PostAsync(new Uri("/api/v1/campaigns:batch", UriKind.Relative),
            new StringContent($"{{\"changes\": [{{\"campaign_id\": \"camp-bad\", \"landing_domains\": {list}}}]}}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, staged.StatusCode);
        var stagedDetail = JsonDocument.Parse(await staged.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.StartsWith("changes[0]: landing_domains[", stagedDetail, StringComparison.Ordinal);
        Assert.Contains(detail, stagedDetail, StringComparison.Ordinal);
        Assert.Single(await Campaigns.HistoryAsync("camp-bad", CancellationToken.None));
        Assert.Equal(0, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_campaigns_staging WHERE campaign_id = 'camp-bad'"));
    }

    [Fact]
    public async Task Staged_landing_domains_are_merged_like_the_other_attributes_and_kept_with_a_rejected_change()
    {
        await Put("camp-sl", new { name = "S", budget_amount = 5, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });
        var staged = await _client.PostAsJsonAsync(new Uri("/api/v1/campaigns:batch", UriKind.Relative), new
        {
            changes = new object[]
            {
                new { campaign_id = "camp-sl", landing_domains = new[] { "a.example" }, effective_at = T0.AddHours(1) },
                new { campaign_id = "camp-sl", budget_amount = 6, effective_at = T0.AddHours(2) },                       // keeps a.example
                new { campaign_id = "camp-sl", landing_domains = new[] { "*.B.example" }, effective_at = T0.AddHours(3) },
                new { campaign_id = "camp-sl", landing_domains = Array.Empty<string>(), effective_at = T0.AddHours(3) },   // same instant, later: clears
                new { campaign_id = "camp-sn", landing_domains = new[] { "new.example" }, effective_at = T0 },            // new and incomplete: rejected
            },
        });
        Assert.Equal(HttpStatusCode.Accepted, staged.StatusCode);

        var counts = JsonDocument.Parse(await (await _client.PostAsync(new Uri("/api/v1/campaigns:merge", UriKind.Relative), null)).Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(1, counts.GetProperty("rejected").GetInt32());
        var history = await Campaigns.HistoryAsync("camp-sl", CancellationToken.None);
        Assert.Equal(["", "a.example", "a.example", ""], history.Select(v => string.Join(",", v.LandingDomains.Entries)));
        Assert.Equal([5m, 5m, 6m, 6m], history.Select(v => v.BudgetAmount));
        AssertContiguous(history);
        Assert.Equal(1, await Db.CountAsync(_api.DataSource,
            "SELECT count(*) FROM dim_campaigns_rejections WHERE campaign_id = 'camp-sn' AND landing_domains = ARRAY['new.example']"));
    }

    [Fact]
    public async Task The_table_refuses_overlapping_versions_and_a_second_current_one_from_any_writer()
    {
        await Put("camp-6", new { name = "E", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });

        async Task<string> Insert(string sql)
        {
            await using var cmd = _api.DataSource.CreateCommand(sql);
            return (await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync())).SqlState;
        }

        Assert.Equal(PostgresErrorCodes.ExclusionViolation, await Insert("""
            INSERT INTO dim_campaigns VALUES (9001, 'camp-6', 'E', 1, 'DAILY', 'ACTIVE', '2026-11-02T00:00Z', '2026-11-03T00:00Z', false)
            """));
        Assert.Equal(PostgresErrorCodes.CheckViolation, await Insert("""
            INSERT INTO dim_campaigns VALUES (9002, 'camp-7', 'F', 1, 'DAILY', 'ACTIVE', '2026-11-02T00:00Z', '2026-11-03T00:00Z', true)
            """));
        Assert.Equal(PostgresErrorCodes.CheckViolation, await Insert("""
            INSERT INTO dim_campaigns VALUES (9003, 'camp-7', 'F', 1, 'DAILY', 'ACTIVE', '2026-11-03T00:00Z', '2026-11-02T00:00Z', false)
            """));
    }

    [Fact]
    public async Task Each_impression_joins_the_version_valid_at_its_impression_time_even_at_the_boundaries()
    {
        await Put("camp-t", new { name = "T", budget_amount = 100, budget_type = "DAILY", status = "ACTIVE", effective_at = T0 });
        await Put("camp-t", new { budget_amount = 200, effective_at = T0.AddHours(1) });
        TimeSpan[] at = [-Micro, TimeSpan.Zero, TimeSpan.FromHours(1) - Micro, TimeSpan.FromHours(1), TimeSpan.FromMinutes(90)];
        await _api.ApplyAsync(at.Select((t, i) => Impression($"pit-{i}", $"pit-e{i}", t, bid: 1m, campaign: "camp-t")));

        var body = JsonDocument.Parse(await _client.GetStringAsync(new Uri(
            $"/api/v1/metrics?from={Iso(T0.AddHours(-1))}&to={Iso(T0.AddHours(2))}&group_by=campaign_id&include=budget_at_impression", UriKind.Relative))).RootElement;

        var byBudget = body.GetProperty("rows").EnumerateArray().ToDictionary(
            r => r.GetProperty("budget_at_impression").ValueKind == JsonValueKind.Null ? -1m : r.GetProperty("budget_at_impression").GetDecimal(),
            r => r.GetProperty("impressions").GetInt64());
        Assert.Equal(new Dictionary<decimal, long> { [-1m] = 1, [100m] = 2, [200m] = 2 }, byBudget);
        Assert.Equal("gold", body.GetProperty("source").GetString());

        // The same answer as the domain's definition of the version valid at t.
        var history = await Campaigns.HistoryAsync("camp-t", CancellationToken.None);
        var expected = at.Select(t => CampaignScd2.VersionAt(history, "camp-t", new DateTimeOffset(T0 + t))?.BudgetAmount ?? -1m)
            .GroupBy(b => b).ToDictionary(g => g.Key, g => (long)g.Count());
        Assert.Equal(expected, byBudget);
    }

    [Fact]
    public async Task Pacing_compares_each_day_spend_with_the_budget_in_force_that_day()
    {
        await Put("camp-p", new { name = "P", budget_amount = 4, budget_type = "DAILY", status = "ACTIVE", effective_at = T0.AddHours(-12) });
        await Put("camp-p", new { budget_amount = 8, effective_at = T0.AddHours(6) });
        await _api.ApplyAsync(
        [
            Impression("pace-1", "pace-e1", TimeSpan.FromHours(1), bid: 1m, campaign: "camp-p"),
            Impression("pace-2", "pace-e2", TimeSpan.FromHours(2), bid: 1m, campaign: "camp-p"),
            Impression("pace-3", "pace-e3", TimeSpan.FromHours(13), bid: 2m, campaign: "camp-p"),
        ]);

        var body = JsonDocument.Parse(await _client.GetStringAsync(new Uri(
            "/api/v1/campaigns/pacing?from=2026-11-01&to=2026-11-03&campaign_id=camp-p", UriKind.Relative))).RootElement;

        var days = body.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(2, days.Count);
        Assert.Equal(2m, days[0].GetProperty("spend").GetDecimal());
        Assert.Equal(8m, days[0].GetProperty("budget_amount").GetDecimal());
        Assert.Equal(2, days[0].GetProperty("versions").GetInt64());
        Assert.Equal(0.25m, days[0].GetProperty("pacing").GetDecimal());
        Assert.Equal(2m, days[1].GetProperty("spend").GetDecimal());
        Assert.Equal(4m, days[1].GetProperty("spend_to_date").GetDecimal());
    }
}
