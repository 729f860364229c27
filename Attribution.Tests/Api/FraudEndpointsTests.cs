using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>The fraud rules through HTTP, and the anomaly report against figures worked out here.</summary>
public sealed class FraudEndpointsTests
{
    private static HttpRequestMessage Admin(HttpMethod method, string url, object? body = null, string? key = ApiFactory.AdminKey)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return request;
    }

    private static async Task<JsonElement> OkAsync(HttpResponseMessage r)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"{(int)r.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static async Task ProblemAsync(HttpResponseMessage r, HttpStatusCode status, string? detail = null)
    {
        Assert.Equal(status, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        if (detail is not null) Assert.Contains(detail, (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_rules_start_from_configuration_change_field_by_field_and_refuse_bad_values()
    {
        using var api = ApiFactory.With(new Dictionary<string, string?> { ["Fraud:ClicksPerIpPerMinute"] = "50", ["Fraud:IpBlocklist:0"] = "192.0.2.0/24" });
        using var http = api.Client();

        var rules = await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/rules");
        Assert.Equal(50, rules.GetProperty("clicks_per_ip_per_minute").GetInt32());
        Assert.Equal(20, rules.GetProperty("clicks_per_user_per_minute").GetInt32());
        Assert.Equal(10, rules.GetProperty("min_click_to_conversion_seconds").GetInt32());
        Assert.Equal(4.0, rules.GetProperty("anomaly_threshold").GetDouble());
        Assert.Contains("headless", rules.GetProperty("bot_user_agent_patterns").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(["192.0.2.0/24"], rules.GetProperty("ip_blocklist").EnumerateArray().Select(p => p.GetString()));

        var changed = await OkAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/rules", new { clicks_per_user_per_minute = 5, bot_user_agent_patterns = new[] { "evilbot" } })));
        Assert.Equal((50, 5), (changed.GetProperty("clicks_per_ip_per_minute").GetInt32(), changed.GetProperty("clicks_per_user_per_minute").GetInt32()));
        Assert.Equal(["evilbot"], changed.GetProperty("bot_user_agent_patterns").EnumerateArray().Select(p => p.GetString()));

        var listed = await OkAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/blocklist", new { cidrs = new[] { "203.0.113.0/24", "2001:db8::/32", "198.51.100.7" } })));
        Assert.Equal(["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"], listed.GetProperty("ip_blocklist").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(5, (await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/rules")).GetProperty("clicks_per_user_per_minute").GetInt32());

        await ProblemAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/blocklist", new { cidrs = new[] { "10.0.0.1/8" } })), HttpStatusCode.BadRequest, "cidrs[0]");
        await ProblemAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/rules", new { clicks_per_ip_per_minute = 0 })), HttpStatusCode.BadRequest, "clicks_per_ip_per_minute");
        await ProblemAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/rules", new { anomaly_threshold = -1 })), HttpStatusCode.BadRequest, "anomaly_threshold");
        await ProblemAsync(await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/fraud/rules", new { clicks_per_ip_per_minute = 7 }, key: null)), HttpStatusCode.Unauthorized);
        Assert.Equal(50, (await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/rules")).GetProperty("clicks_per_ip_per_minute").GetInt32());
    }

    [Fact]
    public async Task An_hour_with_far_more_clicks_than_the_campaigns_last_30_is_reported_with_its_baseline()
    {
        using var api = new ApiFactory();
        using var http = api.Client();
        // 31 hours of 10 impressions; hours 0-29 have 2, 3, 4, 2, 3, 4, … clicked, hour 30 all 10.
        var events = new List<JsonObject>();
        for (var h = 0; h < 31; h++)
        {
            var clicked = h == 30 ? 10 : 2 + h % 3;
            for (var i = 0; i < 10; i++)
            {
                var id = $"an-{h}-{i}";
                events.Add(Impression(id, $"{id}-i", TimeSpan.FromHours(h) + TimeSpan.FromMinutes(i), campaign: "camp-anom"));
                if (i < clicked) events.Add(Click(id, $"{id}-c", TimeSpan.FromHours(h) + TimeSpan.FromMinutes(i + 1)));
            }
        }

        var sent = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        await api.WaitForDrainAsync(events.Count);

        var report = await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/anomalies?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&campaign_id=camp-anom");

        // Median 3 clicks and CTR 0.3, MAD 1 and 0.1: z = 7 / 1.4826 for both.
        var found = report.GetProperty("anomalies").EnumerateArray().ToList();
        Assert.Equal(["clicks", "ctr"], found.Select(a => a.GetProperty("metric").GetString()));
        Assert.All(found, a => Assert.Equal("2026-11-02T18:00:00Z", a.GetProperty("hour").GetString()));
        Assert.Equal(10, found[0].GetProperty("value").GetDouble());
        Assert.Equal((3.0, 1.0, 30), (found[0].GetProperty("baseline").GetProperty("median").GetDouble(),
            found[0].GetProperty("baseline").GetProperty("mad").GetDouble(), found[0].GetProperty("baseline").GetProperty("hours").GetInt32()));
        Assert.Equal(7 / 1.4826, found[0].GetProperty("score").GetDouble(), 1e-9);
        Assert.Equal(7 / 1.4826, found[1].GetProperty("score").GetDouble(), 1e-9);

        Assert.Empty((await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/anomalies?from=2026-11-01T00:00:00Z&to=2026-11-03T00:00:00Z&threshold=5")).GetProperty("anomalies").EnumerateArray());
        await ProblemAsync(await http.GetAsync("/api/v1/fraud/anomalies?from=2026-11-01T00:00:00Z"), HttpStatusCode.BadRequest);
        await ProblemAsync(await http.GetAsync("/api/v1/fraud/anomalies?from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&threshold=abc"), HttpStatusCode.BadRequest, "threshold");
    }

    [Fact]
    public async Task A_late_click_that_pushes_an_address_over_its_limit_flags_the_later_click_of_another_impression()
    {
        using var api = ApiFactory.With(new Dictionary<string, string?> { ["Fraud:ClicksPerIpPerMinute"] = "3" });
        using var http = api.Client();
        static JsonObject From(JsonObject e)
        {
            e["ip_address"] = "198.51.100.9";
            e["user_agent"] = TestIngestKey.BrowserUserAgent;
            return e;
        }

        async Task SendAsync(params JsonObject[] events)
        {
            var sent = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        }

        async Task<JsonElement> GoldAsync(string id) => await OkAsync(await http.GetAsync($"/api/v1/impressions/{id}"));

        // Clicks of one address at 0, 10 and 20 s, each on an impression of its own: three in any minute, none over.
        var seconds = new[] { 0, 10, 20 };
        await SendAsync([.. seconds.SelectMany(s => new[]
        {
            From(Impression($"fl-{s}", $"fl-{s}-i", TimeSpan.FromSeconds(s) - TimeSpan.FromMinutes(1))),
            From(Click($"fl-{s}", $"fl-{s}-c", TimeSpan.FromSeconds(s))),
        })]);
        await api.WaitForDrainAsync(6);
        Assert.Equal((1, 0), ((await GoldAsync("fl-20")).GetProperty("click_count").GetInt32(), (await GoldAsync("fl-20")).GetProperty("invalid_click_count").GetInt32()));

        // A fourth click at 5 s arrives late: the click at 20 s now has four in [−40 s, 20 s].
        await SendAsync(From(Impression("fl-late", "fl-late-i", TimeSpan.FromSeconds(-30))), From(Click("fl-late", "fl-late-c", TimeSpan.FromSeconds(5))));
        await api.WaitForDrainAsync(8);

        var reflagged = await GoldAsync("fl-20");
        Assert.Equal((0, 1, false), (reflagged.GetProperty("click_count").GetInt32(), reflagged.GetProperty("invalid_click_count").GetInt32(), reflagged.GetProperty("is_clicked").GetBoolean()));
        Assert.Equal(["CLICK_FLOODING"], reflagged.GetProperty("fraud_reasons").EnumerateArray().Select(r => r.GetString()));
        foreach (var id in new[] { "fl-0", "fl-10", "fl-late" })
            Assert.Equal(0, (await GoldAsync(id)).GetProperty("invalid_click_count").GetInt32());

        var explained = await OkAsync(await http.GetAsync("/api/v1/impressions/fl-20/explain"));
        Assert.Contains("FRAUD_SUSPECTED", explained.ToString(), StringComparison.Ordinal);
        Assert.Contains("CLICK_FLOODING", explained.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_summary_lists_what_each_rule_flagged_with_exact_money_and_a_backtest_shows_what_a_stricter_rule_would_add()
    {
        using var api = new ApiFactory();
        using var http = api.Client();
        static JsonObject As(JsonObject e, string userAgent)
        {
            e["user_agent"] = userAgent;
            return e;
        }

        const string Browser = TestIngestKey.BrowserUserAgent;
        JsonObject[] events =
        [
            // A bot: its impression (bid 2.00) is never billed and its conversion (30.00) is not credited.
            As(Impression("ft-a", "ft-a-i", TimeSpan.Zero, bid: 2.00m, campaign: "camp-f"), "curl/8.4.0"),
            As(Click("ft-a", "ft-a-c", TimeSpan.FromMinutes(1)), "curl/8.4.0"),
            As(Conversion("ft-a", "ft-a-v", TimeSpan.FromMinutes(2), 30.00m), "curl/8.4.0"),
            // Click injection: a conversion 5 s after its click (12.00 not credited).
            As(Impression("ft-b", "ft-b-i", TimeSpan.Zero, bid: 1.50m, campaign: "camp-f"), Browser),
            As(Click("ft-b", "ft-b-c", TimeSpan.FromMinutes(1)), Browser),
            As(Conversion("ft-b", "ft-b-v", TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(5), 12.00m), Browser),
            // Conversions 60 s and 40 s after their clicks: valid under the 10 s in force.
            As(Impression("ft-c", "ft-c-i", TimeSpan.Zero, campaign: "camp-f"), Browser),
            As(Click("ft-c", "ft-c-c", TimeSpan.FromMinutes(1)), Browser),
            As(Conversion("ft-c", "ft-c-v", TimeSpan.FromMinutes(2), 50.00m), Browser),
            As(Impression("ft-d", "ft-d-i", TimeSpan.Zero, campaign: "camp-f"), Browser),
            As(Click("ft-d", "ft-d-c", TimeSpan.FromMinutes(1)), Browser),
            As(Conversion("ft-d", "ft-d-v", TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(40), 20.00m), Browser),
        ];
        var sent = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        await api.WaitForDrainAsync(events.Length);
        const string Range = "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z";

        static string Lines(JsonElement lines) => string.Join("; ", lines.EnumerateArray().Select(l => string.Join(" ",
            l.GetProperty("campaign_id").GetString(), l.GetProperty("rule").GetString(), l.GetProperty("impressions").GetInt64(),
            l.GetProperty("clicks").GetInt64(), l.GetProperty("conversions").GetInt64(),
            l.GetProperty("spend_excluded").GetDecimal().ToString("0.00", System.Globalization.CultureInfo.InvariantCulture),
            l.GetProperty("revenue_excluded").GetDecimal().ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))));

        var summary = await OkAsync(await http.GetAsync($"/api/v1/fraud/summary?{Range}&campaign_id=camp-f"));
        Assert.Equal("camp-f BOT_USER_AGENT 1 1 1 2.00 30.00; camp-f CLICK_TO_CONVERSION_TOO_FAST 0 0 1 0.00 12.00", Lines(summary.GetProperty("lines")));
        Assert.Empty((await OkAsync(await http.GetAsync($"/api/v1/fraud/summary?{Range}&campaign_id=camp-other"))).GetProperty("lines").EnumerateArray());

        var bots = await OkAsync(await http.GetAsync($"/api/v1/fraud/events?{Range}&rule=BOT_USER_AGENT&limit=2"));
        Assert.Equal(["ft-a-i", "ft-a-c"], bots.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()));
        Assert.Equal(["BOT_USER_AGENT"], bots.GetProperty("events")[0].GetProperty("rules").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(4, (await OkAsync(await http.GetAsync($"/api/v1/fraud/events?{Range}"))).GetProperty("events").GetArrayLength());
        await ProblemAsync(await http.GetAsync($"/api/v1/fraud/events?{Range}&rule=NOPE"), HttpStatusCode.BadRequest, "rule");
        await ProblemAsync(await http.GetAsync($"/api/v1/fraud/events?{Range}&limit=0"), HttpStatusCode.BadRequest, "limit");

        // A stricter minimum (60 s) would also take ft-d's conversion (40 s, 20.00); ft-c's at exactly 60 s stays.
        var backtest = await OkAsync(await http.PostAsJsonAsync("/api/v1/fraud/backtest",
            new { from = "2026-11-01T00:00:00Z", to = "2026-11-02T00:00:00Z", rules = new { min_click_to_conversion_seconds = 60 } }));
        Assert.Equal(4, backtest.GetProperty("impressions").GetInt64());
        Assert.Equal(60, backtest.GetProperty("rules").GetProperty("min_click_to_conversion_seconds").GetInt32());
        Assert.Equal("camp-f BOT_USER_AGENT 1 1 1 2.00 30.00; camp-f CLICK_TO_CONVERSION_TOO_FAST 0 0 2 0.00 32.00", Lines(backtest.GetProperty("proposed")));
        Assert.Equal(Lines(summary.GetProperty("lines")), Lines(backtest.GetProperty("in_force")));
        Assert.Equal("camp-f CLICK_TO_CONVERSION_TOO_FAST 0 0 1 0.00 20.00", Lines(backtest.GetProperty("difference")));
        Assert.Equal(["ft-b-v", "ft-d-v"], backtest.GetProperty("samples").GetProperty("CLICK_TO_CONVERSION_TOO_FAST").EnumerateArray().Select(e => e.GetString()));

        // Nothing changed: the rules in force and what they flag are as before.
        Assert.Equal(10, (await http.GetFromJsonAsync<JsonElement>("/api/v1/fraud/rules")).GetProperty("min_click_to_conversion_seconds").GetInt32());
        Assert.Equal(Lines(summary.GetProperty("lines")), Lines((await OkAsync(await http.GetAsync($"/api/v1/fraud/summary?{Range}&campaign_id=camp-f"))).GetProperty("lines")));
        await ProblemAsync(await http.PostAsJsonAsync("/api/v1/fraud/backtest", new { from = "2026-11-01T00:00:00Z", to = "2026-11-02T00:00:00Z", rules = new { clicks_per_ip_per_minute = 0 } }),
            HttpStatusCode.BadRequest, "clicks_per_ip_per_minute");
        await ProblemAsync(await http.PostAsJsonAsync("/api/v1/fraud/backtest", new { from = "2026-11-01T00:00:00Z" }), HttpStatusCode.BadRequest, "'to'");
    }
}
