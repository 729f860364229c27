using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>The read side through HTTP: impressions, explain, metrics, audit, pipeline status, config, health, Swagger.</summary>
public sealed class QueryEndpointsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);
    private readonly HttpClient _http = api.Client();

    private async Task SendAsync(params JsonObject[] events)
    {
        var r = await _http.PostAsync("/api/v1/events", new StringContent(new JsonArray(events.Select(e => (JsonNode)e.DeepClone()).ToArray()).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
    }

    private async Task<JsonElement> WaitForImpressionAsync(string id, int version)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var r = await _http.GetAsync($"/api/v1/impressions/{id}");
            if (r.StatusCode == HttpStatusCode.OK)
            {
                var body = await r.Content.ReadFromJsonAsync<JsonElement>();
                if (body.GetProperty("stream_version").GetInt32() >= version) return body;
            }

            if (DateTime.UtcNow > deadline) throw new TimeoutException($"impression {id} never reached version {version}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task An_impression_shows_its_gold_row_with_iso_times_and_its_history_in_stream_order()
    {
        await SendAsync(Impression("q-1", "q1-i", 0 * S, bid: 0.8m), Click("q-1", "q1-c", 30 * S), Conversion("q-1", "q1-v", 90 * S, 25m));
        var imp = await WaitForImpressionAsync("q-1", 3);

        Assert.Equal("2026-11-01T12:00:00Z", imp.GetProperty("impression_time").GetString());
        Assert.Equal("2026-11-01T12:01:30Z", imp.GetProperty("conversion_time").GetString());
        Assert.True(imp.GetProperty("is_converted").GetBoolean());
        Assert.Equal(25m, imp.GetProperty("revenue").GetDecimal());
        Assert.Equal([1, 2, 3], imp.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("stream_version").GetInt32()));
    }

    [Fact]
    public async Task An_unknown_impression_is_a_404_problem()
    {
        var r = await _http.GetAsync("/api/v1/impressions/nope");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/v1/impressions/nope/explain")).StatusCode);
    }

    [Fact]
    public async Task Explain_says_why_each_conversion_counted_or_not()
    {
        await SendAsync(
            Impression("q-2", "q2-i", 0 * S),
            Conversion("q-2", "q2-v0", 10 * S, 1m),
            Click("q-2", "q2-c", 60 * S),
            Conversion("q-2", "q2-v1", 60 * S + TimeSpan.FromSeconds(252), 5m),
            Conversion("q-2", "q2-v2", 60 * S + TimeSpan.FromSeconds(400), 6m),
            Conversion("q-2", "q2-v3", 60 * S + TimeSpan.FromDays(8), 7m, ingestedAt: 60 * S + TimeSpan.FromDays(8) + TimeSpan.FromHours(2)));
        await WaitForImpressionAsync("q-2", 6);

        var explain = await _http.GetFromJsonAsync<JsonElement>("/api/v1/impressions/q-2/explain");

        Assert.Equal(7 * 86400, explain.GetProperty("lookback_seconds").GetDouble());
        Assert.Equal(3600, explain.GetProperty("late_threshold_seconds").GetDouble());
        var events = explain.GetProperty("events").EnumerateArray().ToDictionary(e => e.GetProperty("event_id").GetString()!);
        Assert.Equal(["q2-i", "q2-v0", "q2-c", "q2-v1", "q2-v2", "q2-v3"], explain.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()));
        Assert.Equal("NO_PRIOR_CLICK", events["q2-v0"].GetProperty("outcome").GetString());
        Assert.Equal("no click before this conversion", events["q2-v0"].GetProperty("summary").GetString());
        Assert.Equal("applied", events["q2-v1"].GetProperty("outcome").GetString());
        Assert.Equal("q2-c", events["q2-v1"].GetProperty("attributed_click_id").GetString());
        Assert.Equal(252, events["q2-v1"].GetProperty("seconds_after_click").GetDouble());
        Assert.Equal("credited to click q2-c 4 m 12 s earlier", events["q2-v1"].GetProperty("summary").GetString());
        Assert.Equal("EXTRA_CONVERSION", events["q2-v2"].GetProperty("outcome").GetString());
        Assert.Equal("OUT_OF_WINDOW", events["q2-v3"].GetProperty("outcome").GetString());
        Assert.Equal("8 d 0 h after the last click, beyond the 7 d 0 h window", events["q2-v3"].GetProperty("summary").GetString());
        Assert.True(events["q2-v3"].GetProperty("late").GetBoolean());

        var audit = await _http.GetFromJsonAsync<JsonElement>("/api/v1/audit?impression_id=q-2");
        Assert.Equal(["EXTRA_CONVERSION", "NO_PRIOR_CLICK", "OUT_OF_WINDOW"],
            audit.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("reason").GetString()).Order());
    }

    [Fact]
    public async Task Campaign_metrics_follow_the_design_formulas_and_respect_the_half_open_range()
    {
        await SendAsync(
            Impression("m-1", "m1-i", 0 * S, bid: 2m, campaign: "camp-m"), Click("m-1", "m1-c", 10 * S), Conversion("m-1", "m1-v", 70 * S, 10m),
            Impression("m-2", "m2-i", 100 * S, bid: 1m, campaign: "camp-m"), Click("m-2", "m2-c", 110 * S),
            Impression("m-3", "m3-i", 200 * S, bid: 1m, campaign: "camp-m"),
            Impression("m-4", "m4-i", 3600 * S, bid: 4m, campaign: "camp-m"));
        await WaitForImpressionAsync("m-4", 1);
        await WaitForImpressionAsync("m-1", 3);

        var from = Uri.EscapeDataString(Iso(T0));
        var to = Uri.EscapeDataString(Iso(T0 + 3600 * S));
        var body = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/campaigns?campaign_id=camp-m&from={from}&to={to}");
        var row = Assert.Single(body.GetProperty("rows").EnumerateArray());

        Assert.Equal(3, row.GetProperty("impressions").GetInt64());
        Assert.Equal(2, row.GetProperty("clicks").GetInt64());
        Assert.Equal(1, row.GetProperty("conversions").GetInt64());
        Assert.Equal(4m, row.GetProperty("cost").GetDecimal());
        Assert.Equal(10m, row.GetProperty("revenue").GetDecimal());
        Assert.Equal(2.0 / 3, row.GetProperty("ctr").GetDouble(), 9);
        Assert.Equal(0.5, row.GetProperty("cvr").GetDouble(), 9);
        Assert.Equal(2.5, row.GetProperty("roas").GetDouble(), 9);
        Assert.Equal(2m, row.GetProperty("cpc").GetDecimal());
        Assert.Equal(1333.333333m, row.GetProperty("cpm").GetDecimal());
        Assert.Equal(4m, row.GetProperty("cpa").GetDecimal());
        Assert.Equal(70, row.GetProperty("avg_attribution_lag_seconds").GetDouble(), 6);

        var empty = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/campaigns?campaign_id=nobody");
        Assert.Equal(0, empty.GetProperty("rows").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/metrics/campaigns?from=yesterday", "'from' must be")]
    [InlineData("/api/v1/metrics/campaigns?from=2026-02-01&to=2026-01-01", "must be before")]
    [InlineData("/api/v1/audit?reason=MAYBE", "Unknown reason")]
    [InlineData("/api/v1/audit?limit=0", "'limit' must be")]
    public async Task Bad_query_parameters_are_400_problems_that_say_what_is_wrong(string url, string says)
    {
        var r = await _http.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var problem = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(says, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_query_parameter_of_the_wrong_type_is_a_400_problem()
    {
        var r = await _http.GetAsync("/api/v1/audit?limit=lots");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Pipeline_status_reports_every_partition_and_no_lag_once_drained()
    {
        await SendAsync(Impression("p-1", "p1-i", 0 * S));
        var status = await api.WaitForDrainAsync(1);
        var body = await _http.GetFromJsonAsync<JsonElement>("/api/v1/pipeline/status");

        Assert.Equal(4, body.GetProperty("partitions").GetArrayLength());
        Assert.Equal(0, body.GetProperty("lost_messages").GetInt64());
        Assert.True(body.GetProperty("events_applied").GetInt64() >= 1);
        Assert.Equal(status.Topic, body.GetProperty("topic").GetString());
        foreach (var p in body.GetProperty("partitions").EnumerateArray())
            Assert.True(p.GetProperty("end_offset").GetInt64() >= p.GetProperty("committed_offset").GetInt64());
    }

    [Fact]
    public async Task The_attribution_config_is_readable_and_changes_need_the_admin_key()
    {
        var config = await _http.GetFromJsonAsync<JsonElement>("/api/v1/config/attribution");
        Assert.Equal(7, config.GetProperty("lookback_days").GetDouble());
        Assert.Equal(60, config.GetProperty("late_threshold_minutes").GetDouble());

        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.PutAsJsonAsync("/api/v1/config/attribution", new { lookback_days = 3 })).StatusCode);
        var wrong = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config/attribution") { Content = JsonContent.Create(new { lookback_days = 3 }) };
        wrong.Headers.Add("X-Admin-Key", "nope");
        Assert.Equal(HttpStatusCode.Forbidden, (await _http.SendAsync(wrong)).StatusCode);
        var bad = new HttpRequestMessage(HttpMethod.Put, "/api/v1/config/attribution") { Content = JsonContent.Create(new { lookback_days = -1 }) };
        bad.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.SendAsync(bad)).StatusCode);
    }

    [Fact]
    public async Task Health_is_live_and_ready_once_the_consumer_has_partitions()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/live")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        HttpStatusCode ready;
        do ready = (await _http.GetAsync("/health/ready")).StatusCode;
        while (ready != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Task.Delay(200).ContinueWith(_ => true));
        Assert.Equal(HttpStatusCode.OK, ready);
    }

    [Fact]
    public async Task Swagger_describes_every_endpoint()
    {
        var doc = await _http.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        foreach (var path in new[] { "/pixel", "/click", "/api/v1/click-urls", "/api/v1/conversions", "/api/v1/events", "/api/v1/impressions/{impressionId}",
                     "/api/v1/impressions/{impressionId}/explain", "/api/v1/metrics/campaigns", "/api/v1/audit", "/api/v1/pipeline/status", "/api/v1/config/attribution" })
        {
            Assert.Contains(path, paths);
        }

        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/swagger/index.html")).StatusCode);
    }
}
