using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>The write side through HTTP: pixel, click redirect, postback and batch, with their error answers.</summary>
public sealed class TrackingEndpointsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _http = api.Client();

    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode status)
    {
        Assert.Equal(status, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> Impression(string id)
    {
        var found = await Eventually.ValueAsync(() => _http.GetAsync($"/api/v1/impressions/{id}"), r => r.StatusCode == HttpStatusCode.OK, $"impression {id} appears");
        return await found.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task The_pixel_answers_a_transparent_gif_that_is_never_cached_and_records_the_impression()
    {
        var r = await _http.GetAsync("/pixel?impression_id=px-1&campaign_id=c1&creative_id=cr1&user_id=u1&geo_country=US&platform=IOS&bid_price=1.25&custom=abc");

        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/gif", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal(43, (await r.Content.ReadAsByteArrayAsync()).Length);
        Assert.Contains("no-store", r.Headers.CacheControl?.ToString(), StringComparison.Ordinal);
        var imp = await Impression("px-1");
        Assert.Equal("c1", imp.GetProperty("campaign_id").GetString());
        Assert.Equal(1.25m, imp.GetProperty("cost").GetDecimal());
        Assert.Equal("abc", imp.GetProperty("events")[0].GetProperty("payload").GetProperty("custom").GetString());
    }

    [Fact]
    public async Task The_pixel_without_an_impression_id_is_a_bad_request()
    {
        var problem = await Problem(await _http.GetAsync("/pixel?campaign_id=c1"), HttpStatusCode.BadRequest);
        Assert.Contains("impression_id is required", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_click_redirects_to_the_target_with_its_click_id_and_a_postback_by_click_id_converts_the_impression()
    {
        // Served two minutes and clicked one minute before the postback: a conversion within seconds of its click
        // would be click injection (CLICK_TO_CONVERSION_TOO_FAST).
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await _http.GetAsync($"/pixel?impression_id=ck-1&campaign_id=c2&bid_price=2&event_timestamp={now - 120}");
        var click = await _http.GetAsync(ApiFactory.SignedClick("ck-1", "https://shop.example/p?id=7", $"campaign_id=c2&event_timestamp={now - 60}"));

        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        var location = click.Headers.Location!;
        Assert.StartsWith("https://shop.example/p?id=7&click_id=", location.ToString(), StringComparison.Ordinal);
        var clickId = System.Web.HttpUtility.ParseQueryString(location.Query)["click_id"]!;
        await Impression("ck-1");

        var postback = await _http.PostAsJsonAsync("/api/v1/conversions", new { click_id = clickId, conversion_value = 49.90m, conversion_type = "purchase" });

        Assert.Equal(HttpStatusCode.Accepted, postback.StatusCode);
        var eventId = (await postback.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("event_id").GetString();
        var imp = await Eventually.ValueAsync(() => Impression("ck-1"), i => i.GetProperty("is_converted").GetBoolean(), "ck-1 is converted");
        Assert.Equal(49.9m, imp.GetProperty("revenue").GetDecimal());
        Assert.Contains(imp.GetProperty("events").EnumerateArray(), e => e.GetProperty("event_id").GetString() == eventId);
    }

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("ftp://files.example/x")]
    [InlineData("/relative/path")]
    [InlineData("")]
    public async Task A_click_refuses_redirect_targets_that_are_not_http_or_https(string target)
    {
        var problem = await Problem(await _http.GetAsync("/click?impression_id=x&redirect=" + Uri.EscapeDataString(target)), HttpStatusCode.BadRequest);
        Assert.Contains("http or https", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_postback_without_impression_or_click_is_a_bad_request()
    {
        var problem = await Problem(await _http.PostAsJsonAsync("/api/v1/conversions", new { conversion_value = 5 }), HttpStatusCode.BadRequest);
        Assert.Contains("impression_id or click_id is required", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_postback_with_a_negative_value_is_a_bad_request()
    {
        await Problem(await _http.PostAsJsonAsync("/api/v1/conversions", new { impression_id = "i", conversion_value = -1 }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_postback_that_is_not_json_is_a_bad_request()
    {
        var r = await _http.PostAsync("/api/v1/conversions", new StringContent("{oops", Encoding.UTF8, "application/json"));
        var problem = await Problem(r, HttpStatusCode.BadRequest);
        Assert.Contains("JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_reports_each_rejected_event_and_audits_it_as_invalid()
    {
        var body = """
            [{"event_id":"b-1","event_type":"impression","impression_id":"bt-1","bid_price":0.5},
             {"event_id":"b-2","event_type":"VIEW","impression_id":"bt-1"},
             {"event_id":"b-3","event_type":"CLICK","impression_id":"bt-1","event_timestamp":"soon"},
             42]
            """;
        var r = await _http.PostAsync("/api/v1/events", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        var result = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, result.GetProperty("accepted").GetInt32());
        var rejected = result.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], rejected.Select(x => x.GetProperty("index").GetInt32()));
        Assert.Equal("b-2", rejected[0].GetProperty("event_id").GetString());
        Assert.Contains("unknown event_type", rejected[0].GetProperty("error").GetString(), StringComparison.Ordinal);

        // Other tests of this class write INVALID rows to the same database: wait for this batch's three, by content.
        static bool Has(List<JsonElement> rows, Func<JsonElement, bool> row) => rows.Any(row);
        static bool B2(JsonElement x) => x.GetProperty("event_id").GetString() == "b-2";
        static bool B3(JsonElement x) => x.GetProperty("event_id").GetString() == "b-3" && x.GetProperty("detail").GetString()!.Contains("event_timestamp", StringComparison.Ordinal);
        static bool NotAnObject(JsonElement x) => x.GetProperty("detail").GetString()!.Contains("must be a JSON object", StringComparison.Ordinal);
        await Eventually.ValueAsync(
            async () => (await _http.GetFromJsonAsync<JsonElement>("/api/v1/audit?reason=invalid&limit=1000")).GetProperty("rows").EnumerateArray().ToList(),
            rows => Has(rows, B2) && Has(rows, B3) && Has(rows, NotAnObject),
            "the batch's three rejected events are audited INVALID (b-2, b-3 with its event_timestamp, the number 42)");
    }

    [Fact]
    public async Task A_batch_accepts_ndjson()
    {
        var body = "{\"event_id\":\"n-1\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"nd-1\"}\n{\"event_id\":\"n-2\",\"event_type\":\"CLICK\",\"impression_id\":\"nd-1\"}\n{bad line\n";
        var r = await _http.PostAsync("/api/v1/events", new StringContent(body, Encoding.UTF8, "application/x-ndjson"));

        var result = await r.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, result.GetProperty("accepted").GetInt32());
        Assert.Equal(2, result.GetProperty("rejected")[0].GetProperty("index").GetInt32());
        await Eventually.ValueAsync(() => Impression("nd-1"), i => i.GetProperty("is_clicked").GetBoolean(), "nd-1 is clicked");
    }

    [Fact]
    public async Task A_batch_that_is_not_json_is_a_bad_request()
    {
        await Problem(await _http.PostAsync("/api/v1/events", new StringContent("[{", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await Problem(await _http.PostAsync("/api/v1/events", new StringContent("\"text\"", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await Problem(await _http.PostAsync("/api/v1/events", new StringContent("", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_body_over_the_configured_size_is_refused_with_413()
    {
        var big = "[" + string.Join(",", Enumerable.Repeat("{\"event_type\":\"IMPRESSION\",\"impression_id\":\"" + new string('x', 1000) + "\"}", 17_000)) + "]";
        var problem = await Problem(await _http.PostAsync("/api/v1/events", new StringContent(big, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Tracking:MaxBodyBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_batch_of_more_events_than_Tracking_MaxBatchEvents_is_refused_whole_and_one_at_the_limit_is_accepted()
    {
        using var small = new SmallBatchApi();
        var http = small.Client();
        static StringContent Batch(string prefix, int count) => new(
            new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)Scenario.Impression($"{prefix}-{i}", $"{prefix}-e{i}", TimeSpan.Zero))]).ToJsonString(),
            Encoding.UTF8, "application/json");

        var over = await Problem(await http.PostAsync("/api/v1/events", Batch("mb-over", 4)), HttpStatusCode.BadRequest);
        var at = await http.PostAsync("/api/v1/events", Batch("mb-at", 3));

        Assert.Equal("A batch holds at most 3 events, got 4", over.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Accepted, at.StatusCode);
        Assert.Equal(3, (await at.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accepted").GetInt32());
        // Everything Kafka holds is applied: the three of the accepted batch, none of the refused one.
        var status = await small.WaitForDrainAsync(3);
        Assert.Equal(3, status.EventsApplied);
        Assert.Equal(3, await Db.CountAsync(small.DataSource, "SELECT count(*) FROM events WHERE stream_id LIKE 'mb-at-%'"));
    }

    private sealed class SmallBatchApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Tracking:MaxBatchEvents"] = "3",
    });
}
