using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Domain.Experiments;
using Attribution.Tests.Fixtures;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>A/B tests through HTTP: creation and its refusals, stable assignment, and an experiment's figures against
/// counts worked out here from the events sent.</summary>
public sealed class ExperimentEndpointsTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private static readonly TimeSpan M = TimeSpan.FromMinutes(1);
    private readonly HttpClient _http = api.Client();

    private static HttpRequestMessage Admin(HttpMethod method, string url, object? body = null, string? key = ApiFactory.AdminKey)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return request;
    }

    private static object Definition(string id, string campaign = "exp-camp", object? arms = null, object? start = null, object? end = null, double? alpha = null) => new
    {
        experiment_id = id,
        campaign_id = campaign,
        arms = arms ?? new[] { new { creative_id = "cr-a", weight = 1.0 }, new { creative_id = "cr-b", weight = 1.0 } },
        start = start ?? "2026-11-01T12:00:00Z",
        end,
        alpha,
    };

    private static JsonObject Served(string id, int minute, string creative, string campaign = "exp-camp")
    {
        var e = Impression(id, $"{id}-i", minute * M, 1m, campaign);
        e["creative_id"] = creative;
        return e;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? detailContains = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (detailContains is not null) Assert.Contains(detailContains, body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_experiment_counts_its_arms_impressions_clicks_and_conversions_in_its_window_and_tests_them_against_the_control()
    {
        // Window [T0 + 10 min, T0 + 100 min). In it: cr-a 8 impressions, 4 clicked, 1 converted; cr-b 6 impressions,
        // 1 clicked, 1 converted. Outside: before the start, at the end, another campaign, a creative in no arm.
        var events = new List<JsonObject>();
        for (var i = 0; i < 8; i++) events.Add(Served($"xa-{i}", 10 + i, "cr-a"));
        for (var i = 0; i < 4; i++) events.Add(Click($"xa-{i}", $"xa-{i}-c", (11 + i) * M));
        events.Add(Conversion("xa-0", "xa-0-v", 30 * M, 5m));
        for (var i = 0; i < 6; i++) events.Add(Served($"xb-{i}", 20 + i, "cr-b"));
        events.Add(Click("xb-0", "xb-0-c", 21 * M));
        events.Add(Conversion("xb-0", "xb-0-v", 40 * M, 7m));
        events.Add(Served("xa-early", 9, "cr-a"));
        events.Add(Served("xb-late", 100, "cr-b"));
        events.Add(Served("xa-other", 50, "cr-a", campaign: "other-camp"));
        events.Add(Served("xc-0", 50, "cr-c"));
        var response = await _http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await api.WaitForDrainAsync(events.Count);

        var created = await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments",
            Definition("exp-window", start: "2026-11-01T12:10:00Z", end: "2026-11-01T13:40:00Z", alpha: 0.10)));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/experiments/exp-window", created.Headers.Location?.OriginalString);

        var result = await _http.GetFromJsonAsync<JsonElement>("/api/v1/experiments/exp-window");

        var arms = result.GetProperty("arms").EnumerateArray().ToList();
        Assert.Equal(["cr-a", "cr-b"], arms.Select(a => a.GetProperty("creative_id").GetString()));
        Assert.Equal((8, 4, 1), Counts(arms[0]));
        Assert.Equal((6, 1, 1), Counts(arms[1]));
        Assert.True(arms[0].GetProperty("control").GetBoolean());
        Assert.Equal(JsonValueKind.Null, arms[0].GetProperty("vs_control").ValueKind);
        Assert.Equal(4 / 8.0, arms[0].GetProperty("ctr").GetDouble(), 1e-12);
        Assert.Equal(1 / 4.0, arms[0].GetProperty("cvr").GetDouble(), 1e-12);
        Assert.Equal(1 / 6.0, arms[1].GetProperty("ctr").GetDouble(), 1e-12);
        Assert.Equal(1.0, arms[1].GetProperty("cvr").GetDouble(), 1e-12);
        var ci = ProportionStatistics.Wilson(1, 6)!;
        Assert.Equal(ci.Lower, arms[1].GetProperty("ctr_ci").GetProperty("lower").GetDouble(), 1e-12);
        Assert.Equal(ci.Upper, arms[1].GetProperty("ctr_ci").GetProperty("upper").GetDouble(), 1e-12);

        // Pooled CTR 5/14; z = (1/6 − 1/2) / √(5/14 · 9/14 · (1/8 + 1/6)).
        var ctr = arms[1].GetProperty("vs_control").GetProperty("ctr");
        var z = (1 / 6.0 - 0.5) / Math.Sqrt(5 / 14.0 * (9 / 14.0) * (1 / 8.0 + 1 / 6.0));
        Assert.Equal(z, ctr.GetProperty("z").GetDouble(), 1e-12);
        Assert.Equal((1 / 6.0 - 0.5) / 0.5, ctr.GetProperty("lift").GetDouble(), 1e-12);
        Assert.Equal(Distributions.TwoSidedP(z), ctr.GetProperty("p_value").GetDouble(), 1e-12);
        Assert.False(ctr.GetProperty("significant").GetBoolean());
        Assert.Equal(3.0, arms[1].GetProperty("vs_control").GetProperty("cvr").GetProperty("lift").GetDouble(), 1e-12);

        // 8 against 6 of 14 at 1:1: χ² = (1² + 1²)/7.
        var srm = result.GetProperty("srm");
        Assert.Equal(2 / 7.0, srm.GetProperty("chi_square").GetDouble(), 1e-12);
        Assert.False(srm.GetProperty("srm_detected").GetBoolean());
        var required = ProportionStatistics.RequiredSampleSize(0.5, 0.10, 0.10)!.Value;
        Assert.Equal(required, result.GetProperty("required_impressions_per_arm").GetInt64());
        Assert.Equal(6.0 / required, result.GetProperty("progress").GetDouble(), 1e-12);
        Assert.Equal("ended", result.GetProperty("state").GetString());
    }

    private static (long, long, long) Counts(JsonElement arm) =>
        (arm.GetProperty("impressions").GetInt64(), arm.GetProperty("clicks").GetInt64(), arm.GetProperty("conversions").GetInt64());

    [Fact]
    public async Task A_user_keeps_the_arm_the_hash_gives_and_the_arms_share_the_users_by_weight()
    {
        var created = await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-assign",
            arms: new[] { new { creative_id = "cr-a", weight = 1.0 }, new { creative_id = "cr-b", weight = 3.0 } })));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var u = 0; u < 400; u++)
        {
            var a = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/experiments/exp-assign/assignment?user_id=user-{u}");
            var creative = a.GetProperty("creative_id").GetString()!;
            var expected = ArmAssignment.Fraction("exp-assign", $"user-{u}") < 0.25 ? "cr-a" : "cr-b";
            Assert.Equal(expected, creative);
            Assert.Equal(creative == "cr-a", a.GetProperty("control").GetBoolean());
            seen[creative] = seen.GetValueOrDefault(creative) + 1;
        }

        // 400 users at 1:3: 100 expected in the control, standard deviation 8.7.
        Assert.InRange(seen["cr-a"], 100 - 44, 100 + 44);
        var again = await _http.GetFromJsonAsync<JsonElement>("/api/v1/experiments/exp-assign/assignment?user_id=user-7");
        var first = ArmAssignment.Fraction("exp-assign", "user-7") < 0.25 ? "cr-a" : "cr-b";
        Assert.Equal(first, again.GetProperty("creative_id").GetString());
        Assert.Contains((await _http.GetFromJsonAsync<JsonElement>("/api/v1/experiments")).GetProperty("experiments").EnumerateArray(),
            e => e.GetProperty("experiment_id").GetString() == "exp-assign" && e.GetProperty("state").GetString() == "running");
    }

    [Fact]
    public async Task Bad_definitions_unknown_ids_and_missing_keys_get_problems()
    {
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-nokey"), key: null)), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments",
            Definition("exp-one", arms: new[] { new { creative_id = "cr-a", weight = 1.0 } }))), HttpStatusCode.BadRequest, "at least two arms");
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments",
            Definition("exp-dup", arms: new[] { new { creative_id = "cr-a", weight = 1.0 }, new { creative_id = "cr-a", weight = 2.0 } }))), HttpStatusCode.BadRequest, "more than one arm");
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments",
            Definition("exp-w", arms: new[] { new { creative_id = "cr-a", weight = 1.0 }, new { creative_id = "cr-b", weight = -1.0 } }))), HttpStatusCode.BadRequest, "weight");
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments",
            Definition("exp-end", start: "2026-11-02T00:00:00Z", end: "2026-11-01T00:00:00Z"))), HttpStatusCode.BadRequest, "end must be after start");
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-a", alpha: 0.7))), HttpStatusCode.BadRequest, "alpha");
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-t", start: "yesterday"))), HttpStatusCode.BadRequest, "start");

        Assert.Equal(HttpStatusCode.Created, (await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-twice")))).StatusCode);
        await AssertProblemAsync(await _http.SendAsync(Admin(HttpMethod.Post, "/api/v1/experiments", Definition("exp-twice"))), HttpStatusCode.Conflict);

        await AssertProblemAsync(await _http.GetAsync("/api/v1/experiments/nope"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await _http.GetAsync("/api/v1/experiments/" + new string('x', 5000)), HttpStatusCode.NotFound);
        await AssertProblemAsync(await _http.GetAsync("/api/v1/experiments/no%01pe/assignment?user_id=u"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await _http.GetAsync("/api/v1/experiments/exp-twice/assignment"), HttpStatusCode.BadRequest, "user_id");
        await AssertProblemAsync(await _http.GetAsync("/api/v1/experiments/exp-twice/assignment?user_id=a%00b"), HttpStatusCode.BadRequest, "NUL");
    }
}
