using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Analytics.KnownJourneys;

namespace Attribution.Tests.Analytics;

/// <summary>The service with the known journeys applied once, shared by the tests of this class.</summary>
public sealed class KnownJourneysApi : IAsyncLifetime
{
    public ApiFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        await Factory.ApplyAsync(Events());
    }

    public Task DisposeAsync()
    {
        Client.Dispose();
        Factory.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Every analytics endpoint over the known journeys: the answers worked out by hand, and each bad input.</summary>
public sealed class AnalyticsApiTests(KnownJourneysApi api) : IClassFixture<KnownJourneysApi>
{
    private readonly HttpClient _client = api.Client;

    private async Task<JsonElement> GetJson(string url)
    {
        var response = await _client.GetAsync(new Uri(url, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    private static JsonElement Row(JsonElement rows, string key, string value) =>
        rows.EnumerateArray().Single(r => r.GetProperty(key).GetString() == value);

    [Theory]
    [InlineData("/api/v1/metrics?group_by=campaign_id,bogus", "unknown group_by dimension 'bogus'; allowed: campaign_id, creative_id, geo_country, platform, hour, day")]
    [InlineData("/api/v1/metrics?group_by=hour,day", "group_by may hold hour or day, not both")]
    [InlineData("/api/v1/metrics?group_by=platform,platform", "group_by names 'platform' twice")]
    [InlineData("/api/v1/metrics?group_by=campaign_id;DROP TABLE events", "unknown group_by dimension 'campaign_id;DROP TABLE events'; allowed: campaign_id, creative_id, geo_country, platform, hour, day")]
    [InlineData("/api/v1/metrics?from=yesterday", "'from' must be an ISO-8601 time or Unix epoch seconds, got 'yesterday'")]
    [InlineData("/api/v1/metrics?from=2026-11-02&to=2026-11-01", "'from' (2026-11-02T00:00:00.0000000Z) must be before 'to' (2026-11-01T00:00:00.0000000Z)")]
    [InlineData("/api/v1/metrics?from=2026-11-01&to=2026-11-01", "'from' (2026-11-01T00:00:00.0000000Z) must be before 'to' (2026-11-01T00:00:00.0000000Z)")]
    [InlineData("/api/v1/metrics?include=budget", "unknown include 'budget'; allowed: budget_at_impression")]
    [InlineData("/api/v1/metrics?limit=0", "'limit' must be an integer from 1 to 100000, got '0'")]
    [InlineData("/api/v1/metrics?limit=many", "'limit' must be an integer from 1 to 100000, got 'many'")]
    [InlineData("/api/v1/metrics/campaigns?to=never", "'to' must be an ISO-8601 time or Unix epoch seconds, got 'never'")]
    [InlineData("/api/v1/frequency", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/frequency?from=2026-11-01", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/frequency?from=2026-11-02&to=2026-11-01", "'from' (2026-11-02T00:00:00.0000000Z) must be before 'to' (2026-11-01T00:00:00.0000000Z)")]
    [InlineData("/api/v1/frequency?from=2026-01-01&to=2026-11-01", "the range may span at most 92 days, got 304")]
    [InlineData("/api/v1/paths?to=2026-11-02", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/paths?from=2026-11-01&to=2026-11-02&limit=0", "'limit' must be an integer from 1 to 1000, got '0'")]
    [InlineData("/api/v1/paths?from=2026-11-01&to=2026-11-02&limit=abc", "'limit' must be an integer from 1 to 1000, got 'abc'")]
    [InlineData("/api/v1/paths?from=2026-11-01&to=2026-11-02&max_steps=51", "'max_steps' must be an integer from 1 to 50, got '51'")]
    [InlineData("/api/v1/reach?from=2026-11-01", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/reach?from=x&to=2026-11-02", "'from' must be an ISO-8601 time or Unix epoch seconds, got 'x'")]
    [InlineData("/api/v1/attribution?from=2026-11-01&to=2026-11-02", "'model' must be one of last_click, first_click, linear, time_decay, position_based, data_driven, got ''")]
    [InlineData("/api/v1/attribution?model=u_shaped&from=2026-11-01&to=2026-11-02", "'model' must be one of last_click, first_click, linear, time_decay, position_based, data_driven, got 'u_shaped'")]
    [InlineData("/api/v1/attribution?model=linear", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/attribution?model=time_decay&from=2026-11-01&to=2026-11-02&half_life_hours=0", "'half_life_hours' must be a number of hours in (0, 8760], got '0'")]
    [InlineData("/api/v1/attribution?model=time_decay&from=2026-11-01&to=2026-11-02&half_life_hours=-3", "'half_life_hours' must be a number of hours in (0, 8760], got '-3'")]
    [InlineData("/api/v1/attribution?model=time_decay&from=2026-11-01&to=2026-11-02&half_life_hours=week", "'half_life_hours' must be a number of hours in (0, 8760], got 'week'")]
    [InlineData("/api/v1/attribution/compare", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/attribution/compare?from=2026-11-01&to=2026-11-02&half_life_hours=99999", "'half_life_hours' must be a number of hours in (0, 8760], got '99999'")]
    [InlineData("/api/v1/campaigns/pacing?from=2026-11-01", "'from' and 'to' are both required (ISO-8601 or Unix epoch seconds), e.g. from=2026-11-01&to=2026-11-08")]
    [InlineData("/api/v1/campaigns/pacing?from=2026-01-01&to=2026-12-01", "the range may span at most 92 days, got 334")]
    public async Task Bad_input_is_a_400_problem_whose_detail_names_what_is_wrong(string url, string detail)
    {
        var response = await _client.GetAsync(new Uri(url, UriKind.Relative));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Metrics_group_by_campaign_give_the_campaign_view_and_the_totals()
    {
        var body = await GetJson($"/api/v1/metrics?{Window}&group_by=campaign_id");

        Assert.Equal("rollup", body.GetProperty("source").GetString());
        var a = Row(body.GetProperty("rows"), "campaign_id", "camp-a");
        Assert.Equal(4, a.GetProperty("impressions").GetInt64());
        Assert.Equal(2, a.GetProperty("clicks").GetInt64());
        Assert.Equal(1, a.GetProperty("conversions").GetInt64());
        Assert.Equal(3m, a.GetProperty("cost").GetDecimal());
        Assert.Equal(40m, a.GetProperty("revenue").GetDecimal());
        Assert.Equal(0.5, a.GetProperty("ctr").GetDouble());
        Assert.Equal(150 * 60d, a.GetProperty("avg_attribution_lag_seconds").GetDouble());
        var b = Row(body.GetProperty("rows"), "campaign_id", "camp-b");
        Assert.Equal(25m, b.GetProperty("roas").GetDecimal());
        var totals = body.GetProperty("totals");
        Assert.Equal(6, totals.GetProperty("impressions").GetInt64());
        Assert.Equal(140m, totals.GetProperty("revenue").GetDecimal());
        Assert.Equal(7m, totals.GetProperty("cost").GetDecimal());

        var campaigns = await GetJson($"/api/v1/metrics/campaigns?{Window}&campaign_id=camp-b");
        Assert.Equal("camp-b", Assert.Single(campaigns.GetProperty("rows").EnumerateArray()).GetProperty("campaign_id").GetString());
    }

    [Fact]
    public async Task Metrics_by_hour_and_filters_slice_the_same_totals()
    {
        var body = await GetJson($"/api/v1/metrics?{Window}&group_by=hour&campaign_id=camp-a&platform=IOS");

        var hours = body.GetProperty("rows").EnumerateArray()
            .Select(r => (r.GetProperty("hour").GetDateTime(), r.GetProperty("impressions").GetInt64())).ToList();
        Assert.Equal([(From, 2L), (From.AddHours(1), 1L), (From.AddHours(5), 1L)], hours);
        Assert.Equal(4, body.GetProperty("totals").GetProperty("impressions").GetInt64());
        var none = await GetJson($"/api/v1/metrics?{Window}&group_by=day&geo_country=FR");
        Assert.Empty(none.GetProperty("rows").EnumerateArray());
        Assert.Equal(0, none.GetProperty("totals").GetProperty("impressions").GetInt64());
    }

    [Fact]
    public async Task A_range_off_the_hour_is_exact_with_gold_at_the_edges()
    {
        // [12:20, 13:40) holds i-3 (12:30) and i-2 (13:00) but not i-1 (12:00) nor i-5 (13:30 is in; 13:30 < 13:40).
        var body = await GetJson($"/api/v1/metrics?from={Scenario.Iso(From.AddMinutes(20))}&to={Scenario.Iso(From.AddMinutes(100))}");

        Assert.Equal(3, body.GetProperty("totals").GetProperty("impressions").GetInt64());
        Assert.Equal(3.5m, body.GetProperty("totals").GetProperty("cost").GetDecimal());
    }

    [Fact]
    public async Task Metrics_come_as_csv_when_asked()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/v1/metrics?{Window}&group_by=campaign_id,day", UriKind.Relative));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var response = await _client.SendAsync(request);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("campaign_id,day,impressions,clicks,conversions,cost,revenue,ctr,", lines[0], StringComparison.Ordinal);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("camp-a,2026-11-01T00:00:00Z,4,2,1,3,40,0.5,", lines[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frequency_counts_impressions_before_the_first_conversion()
    {
        var body = await GetJson($"/api/v1/frequency?{Window}");

        Assert.Equal(3, body.GetProperty("users").GetInt64());
        Assert.Equal(2, body.GetProperty("converters").GetInt64());
        Assert.Equal(2.0, body.GetProperty("avg_impressions_before_conversion").GetDouble());
        var two = Row(body.GetProperty("buckets"), "bucket", "2");
        Assert.Equal(3, two.GetProperty("users").GetInt64());
        Assert.Equal(2.0 / 3, two.GetProperty("conversion_rate").GetDouble(), 12);

        // camp-a only: u-1 saw one camp-a impression and converted on camp-b (not counted), u-2 one before converting.
        var a = await GetJson($"/api/v1/frequency?{Window}&campaign_id=camp-a");
        Assert.Equal(1, a.GetProperty("converters").GetInt64());
        var one = Row(a.GetProperty("buckets"), "bucket", "1");
        Assert.Equal(2, one.GetProperty("users").GetInt64());
        Assert.Equal(1, one.GetProperty("converters").GetInt64());
    }

    [Fact]
    public async Task Paths_collapse_repeats_and_stop_at_the_first_conversion()
    {
        var body = await GetJson($"/api/v1/paths?{Window}&limit=5");

        var paths = body.GetProperty("paths").EnumerateArray().ToList();
        Assert.Equal(2, body.GetProperty("distinct_paths").GetInt64());
        Assert.Equal("IMPRESSION:camp-a > CLICK:camp-a > IMPRESSION:camp-b > CLICK:camp-b", paths[0].GetProperty("path").GetString());
        Assert.Equal(2, paths[0].GetProperty("users").GetInt64());
        Assert.Equal(1.0, paths[0].GetProperty("conversion_rate").GetDouble());
        Assert.Equal("IMPRESSION:camp-a", paths[1].GetProperty("path").GetString());
        Assert.Equal(0.0, paths[1].GetProperty("conversion_rate").GetDouble());

        var shortened = await GetJson($"/api/v1/paths?{Window}&max_steps=2&limit=1");
        var first = shortened.GetProperty("paths")[0];
        Assert.True(first.GetProperty("truncated").GetBoolean());
        Assert.Equal("… > IMPRESSION:camp-b > CLICK:camp-b", first.GetProperty("path").GetString());
    }

    [Fact]
    public async Task Reach_counts_distinct_users_exactly()
    {
        var body = await GetJson($"/api/v1/reach?{Window}");

        Assert.Equal(6, body.GetProperty("impressions").GetInt64());
        Assert.Equal(3, body.GetProperty("unique_users").GetInt64());
        Assert.Equal(2.0, body.GetProperty("impressions_per_user").GetDouble());
        var a = Row(body.GetProperty("campaigns"), "campaign_id", "camp-a");
        Assert.Equal(4, a.GetProperty("impressions").GetInt64());
        Assert.Equal(3, a.GetProperty("unique_users").GetInt64());
        Assert.Equal(3, body.GetProperty("impressions_per_user_distribution").EnumerateArray().Single(p => p.GetProperty("impressions").GetInt64() == 2).GetProperty("users").GetInt64());
    }

    [Theory]
    [InlineData("last_click", 0, 140)]
    [InlineData("first_click", 140, 0)]
    [InlineData("linear", 70, 70)]
    [InlineData("position_based", 70, 70)]
    public async Task User_level_models_credit_the_user_path_next_to_gold_impression_level_last_click(string model, int campA, int campB)
    {
        var body = await GetJson($"/api/v1/attribution?model={model}&{Window}");

        Assert.Equal(2, body.GetProperty("conversions").GetInt64());
        Assert.Equal(140m, body.GetProperty("credited_revenue").GetDecimal());
        var a = Row(body.GetProperty("campaigns"), "campaign_id", "camp-a");
        var b = Row(body.GetProperty("campaigns"), "campaign_id", "camp-b");
        Assert.Equal(campA, a.GetProperty("revenue").GetDecimal());
        Assert.Equal(campB, b.GetProperty("revenue").GetDecimal());
        // Gold credits u-2's conversion to camp-a, the impression's own campaign, although u-2 clicked camp-b later.
        Assert.Equal(40m, a.GetProperty("gold_revenue").GetDecimal());
        Assert.Equal(100m, b.GetProperty("gold_revenue").GetDecimal());
    }

    [Fact]
    public async Task Compare_shows_every_model_and_each_conserves_revenue()
    {
        var body = await GetJson($"/api/v1/attribution/compare?{Window}&half_life_hours=1");

        var models = body.GetProperty("models").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Equal(["gold_last_click", "last_click", "first_click", "linear", "time_decay", "position_based", "data_driven"], models);
        foreach (var model in models)
        {
            var revenue = body.GetProperty("campaigns").EnumerateArray().Sum(c => c.GetProperty("models").GetProperty(model).GetProperty("revenue").GetDecimal());
            var conversions = body.GetProperty("campaigns").EnumerateArray().Sum(c => c.GetProperty("models").GetProperty(model).GetProperty("conversions").GetDecimal());
            Assert.Equal(140m, revenue);
            Assert.Equal(2m, conversions);
        }

        var timeDecayB = Row(body.GetProperty("campaigns"), "campaign_id", "camp-b").GetProperty("models").GetProperty("time_decay").GetProperty("revenue").GetDecimal();
        Assert.True(timeDecayB > 70m, $"time decay with a 1 h half-life favours the later camp-b clicks, got {timeDecayB}");
    }

    [Fact]
    public async Task Campaign_changes_need_the_admin_key()
    {
        var body = JsonContent.Create(new { name = "A", budget_amount = 10, budget_type = "DAILY", status = "ACTIVE" });
        var without = await _client.PutAsync(new Uri("/api/v1/campaigns/camp-key", UriKind.Relative), body);
        using var wrong = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/campaigns:merge", UriKind.Relative));
        wrong.Headers.Add("X-Admin-Key", "nope");

        Assert.Equal(HttpStatusCode.Unauthorized, without.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.SendAsync(wrong)).StatusCode);
    }

    [Theory]
    [InlineData("""{"name":"A","budget_amount":10,"budget_type":"DAILY","status":"RUNNING"}""")]
    [InlineData("""{"name":"A","budget_amount":-1,"budget_type":"DAILY","status":"ACTIVE"}""")]
    [InlineData("""{"name":"A","budget_amount":10,"budget_type":"WEEKLY","status":"ACTIVE"}""")]
    [InlineData("""{}""")]
    [InlineData("""{"name":"New campaign without a budget"}""")]
    [InlineData("""{"name":"A","budget_amount":"lots"}""")]
    public async Task A_bad_campaign_change_is_a_400_and_writes_nothing(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri("/api/v1/campaigns/camp-bad", UriKind.Relative))
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(new Uri("/api/v1/campaigns/camp-bad/history", UriKind.Relative))).StatusCode);
    }

    [Theory]
    [InlineData("""{"changes":[]}""")]
    [InlineData("""{"changes":[{"campaign_id":"camp-x","status":"ACTIVE"},{"campaign_id":"","status":"ACTIVE"}]}""")]
    [InlineData("""{"changes":[{"campaign_id":"camp-x","budget_amount":-5}]}""")]
    public async Task A_bad_batch_is_a_400_and_stages_nothing(string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/api/v1/campaigns:batch", UriKind.Relative))
        {
            Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);

        var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await Db.CountAsync(api.Factory.DataSource, "SELECT count(*) FROM dim_campaigns_staging WHERE campaign_id = 'camp-x'"));
    }

    [Fact]
    public async Task An_unknown_campaign_is_a_404()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(new Uri("/api/v1/campaigns/camp-nobody", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(new Uri("/api/v1/campaigns/camp-nobody/history", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_root_leads_to_the_dashboard_page()
    {
        using var client = api.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var root = await client.GetAsync(new Uri("/", UriKind.Relative));
        var page = await client.GetStringAsync(new Uri("/dashboard/", UriKind.Relative));

        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/dashboard/", root.Headers.Location?.ToString());
        Assert.Contains("data-chart=\"roas\"", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/swagger\"", page, StringComparison.Ordinal);
    }
}
