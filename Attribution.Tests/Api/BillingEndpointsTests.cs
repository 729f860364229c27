using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Projections.Lakehouse.Export;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>
/// Billing through HTTP (issue 22 item 3) against figures worked out by hand: one campaign bills per impression until
/// T0 + 60 min, then per click at 0.25; a bot's impression, a blocklisted IP's click and a duplicate event are not
/// billed; a closed month answers the same bytes after late events, which are billed as adjustments in December.
/// </summary>
public sealed class BillingEndpointsTests : IDisposable
{
    private static readonly TimeSpan M = TimeSpan.FromMinutes(1);
    private readonly ApiFactory _api = ApiFactory.With(new Dictionary<string, string?>
    {
        ["Fraud:IpBlocklist:0"] = "203.0.113.0/24",
        ["Fraud:ClicksPerIpPerMinute"] = "3",
    });
    private readonly HttpClient _http;

    public BillingEndpointsTests() => _http = _api.Client();

    public void Dispose()
    {
        _http.Dispose();
        _api.Dispose();
    }

    private static HttpRequestMessage Admin(HttpMethod method, string url, object? body = null, string? key = ApiFactory.AdminKey, bool csv = false)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        if (csv) request.Headers.Accept.ParseAdd("text/csv");
        return request;
    }

    private static HttpRequestMessage Get(string url, bool csv = false) => Admin(HttpMethod.Get, url, key: null, csv: csv);

    private async Task<(long Cpm, long Cpc)> CreateCampaignAsync(string id)
    {
        var created = await _http.SendAsync(Admin(HttpMethod.Put, $"/api/v1/campaigns/{id}", new
        {
            name = "Billed", budget_amount = 1000m, budget_type = "LIFETIME", status = "ACTIVE", effective_at = "2026-10-01T00:00:00Z",
        }));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("CPM", (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("current").GetProperty("billing_model").GetString());
        var refused = await _http.SendAsync(Admin(HttpMethod.Put, $"/api/v1/campaigns/{id}", new { billing_model = "CPC", effective_at = Iso(T0 + 60 * M) }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(Admin(HttpMethod.Put, $"/api/v1/campaigns/{id}", new { billing_model = "CPA" }))).StatusCode);
        var switched = await _http.SendAsync(Admin(HttpMethod.Put, $"/api/v1/campaigns/{id}", new { billing_model = "CPC", cpc_rate = 0.25m, effective_at = Iso(T0 + 60 * M) }));
        var body = await switched.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(switched.StatusCode == HttpStatusCode.OK, body.ToString());
        Assert.Equal(0.25m, body.GetProperty("current").GetProperty("cpc_rate").GetDecimal());
        var history = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/history");
        var keys = history.EnumerateArray().Select(v => v.GetProperty("campaign_key").GetInt64()).ToList();
        Assert.Equal(["CPM", "CPC"], history.EnumerateArray().Select(v => v.GetProperty("billing_model").GetString()));
        return (keys[0], keys[1]);
    }

    private async Task SendAsync(IReadOnlyList<JsonObject> events, int stored)
    {
        var response = await _http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events.Select(e => e.DeepClone())]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await _api.WaitForDrainAsync(stored);
    }

    private static JsonObject With(JsonObject e, string field, string value)
    {
        e[field] = value;
        return e;
    }

    // Before T0 + 60 min (CPM): b-1 (0.123456) and b-2 (2.5) billed, b-3 a bot's (1.0) excluded, b-1's click not a CPM unit.
    // After (CPC at 0.25): b-4's first click and b-5's click billed; b-4's second click (blocklisted IP) and b-3's click
    // (its impression is flagged) excluded; b-4's impression not a CPC unit. b-1's impression is sent twice.
    private static List<JsonObject> November() =>
    [
        Impression("b-1", "b-1-i", 1 * M, 0.123456m, "bill-c"),
        Impression("b-1", "b-1-i", 1 * M, 0.123456m, "bill-c"),
        Impression("b-2", "b-2-i", 2 * M, 2.5m, "bill-c"),
        With(Impression("b-3", "b-3-i", 3 * M, 1.0m, "bill-c"), "user_agent", "Mozilla/5.0 (compatible; Googlebot/2.1)"),
        Click("b-1", "b-1-c", 5 * M),
        Impression("b-4", "b-4-i", 61 * M, 0.5m, "bill-c"),
        Click("b-4", "b-4-c1", 62 * M),
        With(Click("b-4", "b-4-c2", 63 * M), "ip_address", "203.0.113.9"),
        Impression("b-5", "b-5-i", 64 * M, 0.5m, "bill-c"),
        Click("b-5", "b-5-c", 65 * M),
        Click("b-3", "b-3-c", 66 * M),
    ];

    private static string Sha(params string[] ids) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(ids.Order(StringComparer.Ordinal).Select(i => i + "\n")))));

    [Fact]
    public async Task A_month_bills_impressions_under_cpm_and_clicks_under_cpc_by_the_version_at_each_event_and_never_the_flagged_ones()
    {
        var (cpm, cpc) = await CreateCampaignAsync("bill-c");
        await SendAsync(November(), stored: 10);

        var bill = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&campaign_id=bill-c");

        var lines = bill.GetProperty("lines").EnumerateArray().ToList();
        Assert.Equal([cpm, cpc], lines.Select(l => l.GetProperty("campaign_key").GetInt64()));
        Assert.Equal(2.623456m + 0.50m, bill.GetProperty("total_amount").GetDecimal());
        var (first, second) = (lines[0], lines[1]);
        Assert.Equal(("charge", "CPM", 2, 0, 2.623456m, 1, 0, 1.0m),
            (first.GetProperty("line_type").GetString(), first.GetProperty("billing_model").GetString(), first.GetProperty("billable_impressions").GetInt32(),
             first.GetProperty("billable_clicks").GetInt32(), first.GetProperty("amount").GetDecimal(), first.GetProperty("excluded_impressions").GetInt32(),
             first.GetProperty("excluded_clicks").GetInt32(), first.GetProperty("excluded_amount").GetDecimal()));
        Assert.Equal(("CPC", 0.25m, 0, 2, 0.50m, 0, 2, 0.50m),
            (second.GetProperty("billing_model").GetString(), second.GetProperty("cpc_rate").GetDecimal(), second.GetProperty("billable_impressions").GetInt32(),
             second.GetProperty("billable_clicks").GetInt32(), second.GetProperty("amount").GetDecimal(), second.GetProperty("excluded_impressions").GetInt32(),
             second.GetProperty("excluded_clicks").GetInt32(), second.GetProperty("excluded_amount").GetDecimal()));
        Assert.Equal((2, Sha("b-1-i", "b-2-i"), JsonValueKind.Null),
            (first.GetProperty("lineage").GetProperty("event_count").GetInt32(), first.GetProperty("lineage").GetProperty("events_sha256").GetString(),
             first.GetProperty("lineage").GetProperty("bronze_snapshot_id").ValueKind));
        Assert.Equal(Sha("b-4-c1", "b-5-c"), second.GetProperty("lineage").GetProperty("events_sha256").GetString());

        // Once Bronze is exported, each line names the snapshot that holds its events.
        await _api.Services.GetRequiredService<BronzeExporter>().ExportAsync(null, CancellationToken.None);
        var tables = await _http.GetFromJsonAsync<JsonElement>("/api/v1/lakehouse/tables");
        var snapshot = tables.GetProperty("tables").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "bronze.ad_events")
            .GetProperty("snapshots").EnumerateArray().Single().GetProperty("snapshot_id").GetInt64();
        var csv = await _http.SendAsync(Get("/api/v1/billing?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&campaign_id=bill-c", csv: true));
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            "line_type,corrects_period,campaign_id,campaign_key,billing_model,cpc_rate,version_start,version_end,billable_impressions,billable_clicks," +
            "amount,excluded_impressions,excluded_clicks,excluded_amount,event_count,events_sha256,bronze_snapshot_id\r\n" +
            $"charge,,bill-c,{cpm},CPM,,2026-10-01T00:00:00Z,2026-11-01T13:00:00Z,2,0,2.623456,1,0,1,2,{Sha("b-1-i", "b-2-i")},{snapshot}\r\n" +
            $"charge,,bill-c,{cpc},CPC,0.25,2026-11-01T13:00:00Z,9999-12-31T00:00:00Z,0,2,0.5,0,2,0.5,2,{Sha("b-4-c1", "b-5-c")},{snapshot}\r\n",
            await csv.Content.ReadAsStringAsync());

        // Outside the range, and another campaign's filter, bill nothing.
        var october = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing?from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z&campaign_id=bill-c");
        Assert.Equal(0m, october.GetProperty("total_amount").GetDecimal());
        Assert.Empty((await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&campaign_id=nobody")).GetProperty("lines").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/api/v1/billing?from=2026-11-01T00:00:00Z")).StatusCode);
    }

    [Fact]
    public async Task The_batch_feed_stages_billing_changes_merges_them_as_scd2_versions_and_keeps_a_cpc_change_without_rate_as_a_rejection()
    {
        var staged = await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/campaigns:batch", new
        {
            changes = new object[]
            {
                new { campaign_id = "feed-a", name = "A", budget_amount = 10m, budget_type = "DAILY", status = "ACTIVE", effective_at = "2026-11-01T00:00:00Z" },
                new { campaign_id = "feed-a", billing_model = "CPC", cpc_rate = 0.125m, effective_at = "2026-11-10T00:00:00Z" },
                new { campaign_id = "feed-b", name = "B", budget_amount = 10m, budget_type = "DAILY", status = "ACTIVE", billing_model = "CPC", effective_at = "2026-11-01T00:00:00Z" },
            },
        }));
        Assert.Equal(HttpStatusCode.Accepted, staged.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/campaigns:batch",
            new { changes = new[] { new { campaign_id = "feed-c", billing_model = "CPX" } } }))).StatusCode);

        var merged = await (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/campaigns:merge"))).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal((3, 2, 1), (merged.GetProperty("staged").GetInt32(), merged.GetProperty("opened").GetInt32(), merged.GetProperty("rejected").GetInt32()));
        Assert.Contains("cpc_rate", merged.GetProperty("rejections")[0].GetString(), StringComparison.Ordinal);
        var history = (await _http.GetFromJsonAsync<JsonElement>("/api/v1/campaigns/feed-a/history")).EnumerateArray()
            .Select(v => (v.GetProperty("billing_model").GetString(), v.GetProperty("cpc_rate").ValueKind == JsonValueKind.Null ? (decimal?)null : v.GetProperty("cpc_rate").GetDecimal()))
            .ToList();
        Assert.Equal([("CPM", null), ("CPC", 0.125m)], history);
        Assert.Equal(1, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_campaigns_rejections WHERE campaign_id = 'feed-b' AND billing_model = 'CPC' AND cpc_rate IS NULL"));
    }

    [Fact]
    public async Task A_closed_month_answers_the_same_bytes_after_late_events_and_those_are_billed_as_adjustments_in_the_next_open_month()
    {
        var (_, cpc) = await CreateCampaignAsync("bill-c");
        await SendAsync(November(), stored: 10);

        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-11/close", key: null))).StatusCode);
        // Two closes at once: one freezes the month, the other finds it closed.
        var closes = await Task.WhenAll(_http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-11/close")),
            _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-11/close")));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], closes.Select(c => c.StatusCode).Order());
        var closing = closes.Single(c => c.StatusCode == HttpStatusCode.OK);
        var closedJson = await closing.Content.ReadAsByteArrayAsync();
        Assert.True(closing.StatusCode == HttpStatusCode.OK, Encoding.UTF8.GetString(closedJson));
        var closed = JsonDocument.Parse(closedJson).RootElement;
        Assert.Equal(("2026-11", "closed", 3.123456m), (closed.GetProperty("period").GetString(), closed.GetProperty("status").GetString(), closed.GetProperty("total_amount").GetDecimal()));
        var closedCsv = await (await _http.SendAsync(Get("/api/v1/billing/periods/2026-11", csv: true))).Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.Conflict, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-11/close"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2999-01/close"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-13/close"))).StatusCode);

        // Late for November: b-6 with a billable click (0.25) and b-5's second click (0.25); in December b-7's click (0.25).
        await SendAsync(
        [
            Impression("b-6", "b-6-i", 90 * M, 0.5m, "bill-c"), Click("b-6", "b-6-c", 91 * M), Click("b-5", "b-5-c2", 92 * M),
            Impression("b-7", "b-7-i", TimeSpan.FromDays(31), 0.5m, "bill-c"), Click("b-7", "b-7-c", TimeSpan.FromDays(31) + M),
        ], stored: 15);

        Assert.Equal(closedJson, await (await _http.GetAsync("/api/v1/billing/periods/2026-11")).Content.ReadAsByteArrayAsync());
        Assert.Equal(closedCsv, await (await _http.SendAsync(Get("/api/v1/billing/periods/2026-11", csv: true))).Content.ReadAsByteArrayAsync());
        var live = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&campaign_id=bill-c");
        Assert.Equal(2.623456m + 1.00m, live.GetProperty("total_amount").GetDecimal());

        var december = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing/periods/2026-12");
        Assert.Equal(("open", JsonValueKind.Null), (december.GetProperty("status").GetString(), december.GetProperty("closed_at").ValueKind));
        var lines = december.GetProperty("lines").EnumerateArray()
            .Select(l => (Type: l.GetProperty("line_type").GetString(), Corrects: l.GetProperty("corrects_period").GetString(), Key: l.GetProperty("campaign_key").GetInt64(),
                Clicks: l.GetProperty("billable_clicks").GetInt32(), Amount: l.GetProperty("amount").GetDecimal(), Sha: l.GetProperty("lineage").GetProperty("events_sha256").GetString()))
            .ToList();
        Assert.Equal([("charge", null, cpc, 1, 0.25m, Sha("b-7-c")), ("adjustment", "2026-11", cpc, 2, 0.50m, Sha("b-5-c2", "b-6-c"))], lines);
        Assert.Equal(0.75m, december.GetProperty("total_amount").GetDecimal());
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync("/api/v1/billing/periods/26-12")).StatusCode);
    }

    [Fact]
    public async Task A_click_flagged_after_its_month_closed_is_credited_in_the_next_open_month_exactly_once()
    {
        var (_, cpc) = await CreateCampaignAsync("bill-c");
        static JsonObject From(JsonObject click) => With(click, "ip_address", "198.51.100.77");
        // November, under CPC at 0.25: one click of 198.51.100.77 at T0 + 120 min, billed.
        await SendAsync([Impression("r-1", "r-1-i", 119 * M, 0.5m, "bill-c"), From(Click("r-1", "r-1-c", 120 * M))], stored: 2);
        var closed = await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-11/close"));
        Assert.True(closed.StatusCode == HttpStatusCode.OK, await closed.Content.ReadAsStringAsync());
        Assert.Equal(0.25m, (await closed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("total_amount").GetDecimal());

        // Three late clicks of the same address 30, 20 and 10 s before it: four in its minute, so it is flooding now.
        // The three are November's late events (0.75); the click November billed is credited (−0.25).
        var seconds = new[] { 30, 20, 10 };
        await SendAsync([.. seconds.SelectMany(b => new[]
        {
            Impression($"r-{b}", $"r-{b}-i", 119 * M, 0.5m, "bill-c"),
            From(Click($"r-{b}", $"r-{b}-c", 120 * M - TimeSpan.FromSeconds(b))),
        })], stored: 8);

        static (int, decimal, int, decimal, string?) Adjustment(JsonElement period) => period.GetProperty("lines").EnumerateArray()
            .Where(l => l.GetProperty("line_type").GetString() == "adjustment")
            .Select(l => (l.GetProperty("billable_clicks").GetInt32(), l.GetProperty("amount").GetDecimal(), l.GetProperty("excluded_clicks").GetInt32(),
                l.GetProperty("excluded_amount").GetDecimal(), l.GetProperty("corrects_period").GetString()))
            .Single();
        var december = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing/periods/2026-12");
        Assert.Equal((2, 0.50m, 1, 0.25m, "2026-11"), Adjustment(december));
        Assert.Equal(cpc, december.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("line_type").GetString() == "adjustment").GetProperty("campaign_key").GetInt64());

        // November's own bill and the live view: the bytes stay; the click is excluded now.
        var live = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&campaign_id=bill-c");
        Assert.Equal(0.75m, live.GetProperty("total_amount").GetDecimal());
        Assert.Equal(HttpStatusCode.Conflict, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/billing/periods/2026-12/close"))).StatusCode);

        // December closes in January (the clock of this close, not the machine's): it settles the reversal with its new
        // verdict, so January carries nothing more for November.
        var december2 = await _api.Services.GetRequiredService<Attribution.Projections.Billing.BillingLedger>().CloseAsync(
            new Attribution.Domain.Billing.BillingPeriod(2026, 12), new DateTimeOffset(2027, 1, 2, 0, 0, 0, TimeSpan.Zero), (_, _, _) => ([], []), CancellationToken.None);
        Assert.Null(december2.Error);
        var january = await _http.GetFromJsonAsync<JsonElement>("/api/v1/billing/periods/2027-01");
        Assert.DoesNotContain(january.GetProperty("lines").EnumerateArray(), l => l.GetProperty("line_type").GetString() == "adjustment");
        Assert.Equal(0m, january.GetProperty("total_amount").GetDecimal());
    }
}
