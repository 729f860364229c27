using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Projections.Gold;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api;

/// <summary>What-if replays through HTTP: the diff's numbers, live Gold untouched, the same numbers a real replay under the
/// changed config gives, the error answers, a replay left running by a dead instance, and the `whatif` verb.</summary>
public sealed class WhatIfReplayTests
{
    private static readonly TimeSpan H = TimeSpan.FromHours(1);
    private static readonly TimeSpan D = TimeSpan.FromDays(1);

    /// <summary>An impression served <paramref name="servedAt"/> after T0 and clicked at once; each conversion is
    /// (lag after that click, value).</summary>
    private static IEnumerable<JsonObject> Converted(string id, TimeSpan servedAt, string campaign, decimal bid, params (TimeSpan Lag, decimal Value)[] conversions)
    {
        yield return Impression(id, $"{id}-i", servedAt, bid, campaign);
        yield return Click(id, $"{id}-c", servedAt);
        for (var n = 0; n < conversions.Length; n++) yield return Conversion(id, $"{id}-v{n + 1}", servedAt + conversions[n].Lag, conversions[n].Value);
    }

    /// <summary>Conversions 1 h, 2 d, 4 d, 6 d and 9 d after their click, one credit that moves to a later click under a
    /// shorter lookback, a conversion without a click and an impression only; served an hour apart.</summary>
    private static List<JsonObject> Events() =>
    [
        .. Converted("a-1", 0 * H, "camp-a", 2m, (H, 10m)),
        .. Converted("a-2", 1 * H, "camp-a", 2m, (2 * D, 20m)),
        .. Converted("a-3", 2 * H, "camp-a", 2m, (4 * D, 40m)),
        .. Converted("a-4", 3 * H, "camp-a", 2m, (9 * D, 80m)),
        .. Converted("a-5", 4 * H, "camp-a", 2m, (4 * D, 15m)),
        Click("a-5", "a-5-c2", 4 * H + 4 * D + H), Conversion("a-5", "a-5-v2", 4 * H + 4 * D + 2 * H, 35m),
        .. Converted("b-1", 5 * H, "camp-b", 1m, (6 * D, 50m)),
        Impression("b-2", "b-2-i", 6 * H, 1m, "camp-b"), Conversion("b-2", "b-2-v1", 7 * H, 9m),
        Impression("b-3", "b-3-i", 7 * H, 1m, "camp-b"),
    ];

    private static async Task SendAsync(HttpClient http, IEnumerable<JsonObject> events)
    {
        var response = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static HttpRequestMessage Admin(HttpMethod method, string url, object? body = null, string? key = ApiFactory.AdminKey)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        if (key is not null) request.Headers.Add("X-Admin-Key", key);
        return request;
    }

    private static async Task<JsonElement> StartAsync(HttpClient http, object body)
    {
        var response = await http.SendAsync(Admin(HttpMethod.Post, "/api/v1/replays", body));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var replay = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/replays/{replay.GetProperty("id").GetString()}", response.Headers.Location?.OriginalString);
        return replay;
    }

    private static Task<JsonElement> CompletedAsync(HttpClient http, string id) =>
        Eventually.ValueAsync(async () => await GetJsonAsync(http, $"/api/v1/replays/{id}"),
            r => r.GetProperty("state").GetString() != "running", $"what-if replay {id} ends");

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, string url)
    {
        var response = await http.SendAsync(Admin(HttpMethod.Get, url));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)status, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
    }

    /// <summary>conversions, revenue, revenue_out_of_window, roas of one side of a diff row, or of a metrics row.</summary>
    private static (long, decimal, decimal, double?) Figures(JsonElement e) =>
        (e.GetProperty("conversions").GetInt64(), e.GetProperty("revenue").GetDecimal(), e.GetProperty("revenue_out_of_window").GetDecimal(),
            e.GetProperty("roas").ValueKind == JsonValueKind.Null ? null : e.GetProperty("roas").GetDouble());

    private static Dictionary<string, JsonElement> ByCampaign(JsonElement rows) =>
        rows.EnumerateArray().ToDictionary(r => r.GetProperty("campaign_id").GetString()!, StringComparer.Ordinal);

    [Fact]
    public async Task A_shorter_lookback_what_if_gives_the_numbers_a_real_replay_under_that_lookback_gives_and_leaves_live_gold_untouched()
    {
        using var api = new ApiFactory();
        var http = api.Client();
        var events = Events();
        await SendAsync(http, events);
        await api.WaitForDrainAsync(events.Count);
        var gold = await Db.GoldSnapshotAsync(api.DataSource);
        var audit = await Db.AuditSnapshotAsync(api.DataSource);
        var metrics = await http.GetStringAsync("/api/v1/metrics/campaigns");

        // A what-if with a three-day lookback, against the seven days in force.
        var started = await StartAsync(http, new { lookback_days = 3 });
        var id = started.GetProperty("id").GetString()!;
        var replay = await CompletedAsync(http, id);

        Assert.Equal("completed", replay.GetProperty("state").GetString());
        Assert.Equal((8, 8), (replay.GetProperty("progress").GetProperty("done").GetInt64(), replay.GetProperty("progress").GetProperty("total").GetInt64()));
        Assert.Equal((3.0, 60.0), (replay.GetProperty("parameters").GetProperty("lookback_days").GetDouble(), replay.GetProperty("parameters").GetProperty("late_threshold_minutes").GetDouble()));
        Assert.Equal(JsonValueKind.Null, replay.GetProperty("parameters").GetProperty("from").ValueKind);
        Assert.Equal(7.0, replay.GetProperty("live_rules").GetProperty("lookback_days").GetDouble());
        Assert.Equal(JsonValueKind.String, replay.GetProperty("finished_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, replay.GetProperty("error").ValueKind);
        Assert.Contains((await GetJsonAsync(http, "/api/v1/replays")).GetProperty("replays").EnumerateArray(), r => r.GetProperty("id").GetString() == id);

        var diff = await GetJsonAsync(http, $"/api/v1/replays/{id}/diff");

        // a-3 (4 d) and b-1 (6 d) fall out of the window, a-5's credit moves to its second conversion; a-4 is out of both.
        var campaigns = ByCampaign(diff.GetProperty("campaigns"));
        Assert.Equal(["camp-a", "camp-b"], campaigns.Keys);
        Assert.Equal((4L, 85m, 80m, (double?)8.5), Figures(campaigns["camp-a"].GetProperty("live")));
        Assert.Equal((3L, 65m, 135m, (double?)6.5), Figures(campaigns["camp-a"].GetProperty("what_if")));
        Assert.Equal((-1L, -20m, 55m, (double?)-2.0), Figures(campaigns["camp-a"].GetProperty("delta")));
        Assert.Equal((1L, 50m, 0m, (double?)(double)(50m / 3m)), Figures(campaigns["camp-b"].GetProperty("live")));
        Assert.Equal((0L, 0m, 50m, (double?)0.0), Figures(campaigns["camp-b"].GetProperty("what_if")));
        Assert.Equal(3, diff.GetProperty("changed_impressions_total").GetInt64());
        var changed = diff.GetProperty("changed_impressions").EnumerateArray().ToList();
        Assert.Equal(["a-3", "a-5", "b-1"], changed.Select(c => c.GetProperty("impression_id").GetString()));
        var a3 = Assert.Single(changed[0].GetProperty("events").EnumerateArray());
        Assert.Equal("a-3-v1", a3.GetProperty("event_id").GetString());
        Assert.Equal("credited to click a-3-c 4 d 0 h earlier", a3.GetProperty("live").GetProperty("summary").GetString());
        Assert.Equal("OUT_OF_WINDOW", a3.GetProperty("what_if").GetProperty("outcome").GetString());
        Assert.Equal("4 d 0 h after the last click, beyond the 3 d 0 h window", a3.GetProperty("what_if").GetProperty("summary").GetString());
        Assert.Equal("last click, 3 d 0 h lookback, late after 1 h 0 m", changed[0].GetProperty("what_if_rules").GetString());
        Assert.Equal(["a-5-v1", "a-5-v2"], changed[1].GetProperty("events").EnumerateArray().Select(e => e.GetProperty("event_id").GetString()));

        // Live Gold, the audit log and the rollups are as they were.
        Assert.Equal(gold, await Db.GoldSnapshotAsync(api.DataSource));
        Assert.Equal(audit, await Db.AuditSnapshotAsync(api.DataSource));
        Assert.Equal(metrics, await http.GetStringAsync("/api/v1/metrics/campaigns"));

        // from/to: only impressions served in [2 h, 5 h) (a-3, a-4, a-5), live restricted to the same ones.
        var (from, to) = ((T0 + 2 * H).ToString("O"), (T0 + 5 * H).ToString("O"));
        var ranged = await CompletedAsync(http, (await StartAsync(http, new { lookback_days = 3, from, to })).GetProperty("id").GetString()!);
        Assert.Equal(3, ranged.GetProperty("progress").GetProperty("total").GetInt64());
        var rangedDiff = await GetJsonAsync(http, $"/api/v1/replays/{ranged.GetProperty("id").GetString()}/diff");
        var rangedCampaign = Assert.Single(rangedDiff.GetProperty("campaigns").EnumerateArray());
        var liveInRange = ByCampaign((await http.GetFromJsonAsync<JsonElement>($"/api/v1/metrics/campaigns?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}")).GetProperty("rows"));
        Assert.Equal(Figures(liveInRange["camp-a"]), Figures(rangedCampaign.GetProperty("live")));
        Assert.Equal((1L, 35m, 135m, (double?)(double)(35m / 6m)), Figures(rangedCampaign.GetProperty("what_if")));
        Assert.Equal(["a-3", "a-5"], rangedDiff.GetProperty("changed_impressions").EnumerateArray().Select(c => c.GetProperty("impression_id").GetString()));

        // The real thing: the config changed to three days and the existing replay run. Its metrics are the what-if's.
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(Admin(HttpMethod.Put, "/api/v1/config/attribution", new { lookback_days = 3 }))).StatusCode);
        await api.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(null, CancellationToken.None);
        var replayed = ByCampaign((await http.GetFromJsonAsync<JsonElement>("/api/v1/metrics/campaigns")).GetProperty("rows"));
        Assert.Equal(campaigns.Keys, replayed.Keys);
        foreach (var (campaign, row) in campaigns) Assert.Equal(Figures(row.GetProperty("what_if")), Figures(replayed[campaign]));
    }

    [Fact]
    public async Task Bad_input_unknown_ids_missing_keys_and_a_running_replay_get_problem_details_and_delete_cancels_and_drops_the_schema()
    {
        using var api = new ApiFactory();
        var http = api.Client();
        await SendAsync(http, Events());
        await api.WaitForDrainAsync(Events().Count);

        foreach (var bad in new object[]
                 {
                     new { lookback_days = -1 }, new { lookback_days = 0 }, new { lookback_days = 400 }, new { late_threshold_minutes = -5 },
                     new { from = "2026-11-05", to = "2026-11-01" }, new { from = "soon" }, new { to = "2026-11-01", from = "2026-11-01" },
                 })
            await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Post, "/api/v1/replays", bad)), HttpStatusCode.BadRequest);
        var malformed = Admin(HttpMethod.Post, "/api/v1/replays");
        malformed.Content = new StringContent("{\"lookback_days\":", Encoding.UTF8, "application/json");
        await AssertProblemAsync(await http.SendAsync(malformed), HttpStatusCode.BadRequest);

        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Post, "/api/v1/replays", new { lookback_days = 3 }, key: null)), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Post, "/api/v1/replays", new { lookback_days = 3 }, key: "wrong")), HttpStatusCode.Forbidden);
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, "/api/v1/replays", key: null)), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, "/api/v1/replays/0123456789ab/diff", key: null)), HttpStatusCode.Unauthorized);
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Delete, "/api/v1/replays/0123456789ab", key: "wrong")), HttpStatusCode.Forbidden);
        foreach (var url in new[] { "/api/v1/replays/0123456789ab", "/api/v1/replays/0123456789ab/diff", "/api/v1/replays/not-an-id", "/api/v1/replays/'%20OR%201=1" })
            await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, url)), HttpStatusCode.NotFound);
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Delete, "/api/v1/replays/0123456789ab")), HttpStatusCode.NotFound);
        Assert.Empty((await GetJsonAsync(http, "/api/v1/replays")).GetProperty("replays").EnumerateArray());

        // Live Gold locked by another transaction holds the replay in its first step: running, for as long as the test wants.
        string id;
        await using (var conn = await api.DataSource.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await using (var lockGold = new Npgsql.NpgsqlCommand("LOCK TABLE ad_performance_state IN ACCESS EXCLUSIVE MODE", conn, tx))
                await lockGold.ExecuteNonQueryAsync();
            id = (await StartAsync(http, new { late_threshold_minutes = 10 })).GetProperty("id").GetString()!;

            Assert.Equal("running", (await GetJsonAsync(http, $"/api/v1/replays/{id}")).GetProperty("state").GetString());
            await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, $"/api/v1/replays/{id}/diff")), HttpStatusCode.Conflict);
            await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Post, "/api/v1/replays", new { lookback_days = 3 })), HttpStatusCode.Conflict);

            // DELETE cancels it, and drops what it had made.
            Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(Admin(HttpMethod.Delete, $"/api/v1/replays/{id}"))).StatusCode);
            await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, $"/api/v1/replays/{id}")), HttpStatusCode.NotFound);
            await tx.RollbackAsync();
        }

        Assert.Equal(0, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", $"whatif_{id}"));

        // A completed replay's DELETE drops its schema and its record.
        var done = await CompletedAsync(http, (await StartAsync(http, new { })).GetProperty("id").GetString()!);
        Assert.Equal("completed", done.GetProperty("state").GetString());
        var schema = done.GetProperty("schema").GetString()!;
        Assert.Equal(1, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema));
        // The same rules as live: nothing changed.
        var same = await GetJsonAsync(http, $"/api/v1/replays/{done.GetProperty("id").GetString()}/diff");
        Assert.Equal(0, same.GetProperty("changed_impressions_total").GetInt64());
        Assert.All(same.GetProperty("campaigns").EnumerateArray(), c => Assert.Equal((0L, 0m, 0m, (double?)0.0), Figures(c.GetProperty("delta"))));

        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(Admin(HttpMethod.Delete, $"/api/v1/replays/{done.GetProperty("id").GetString()}"))).StatusCode);
        Assert.Equal(0, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema));
        Assert.Equal(0, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM whatif_replays"));
    }

    [Fact]
    public async Task A_replay_left_running_by_a_dead_instance_is_failed_at_the_next_start_and_the_whatif_verb_prints_its_diff()
    {
        using var first = new ApiFactory();
        var http = first.Client();
        await SendAsync(http, Events());
        await first.WaitForDrainAsync(Events().Count);
        // What a killed instance leaves: a running record and a half-made schema, and nobody holding the replay's lock.
        await using (var left = first.DataSource.CreateCommand("""
            INSERT INTO whatif_replays (replay_id, schema_name, state, lookback_days, late_threshold_minutes, live_lookback_days, live_late_threshold_minutes)
            VALUES ('0123456789ab', 'whatif_0123456789ab', 'running', 3, 60, 7, 60);
            CREATE SCHEMA whatif_0123456789ab;
            """))
            await left.ExecuteNonQueryAsync();

        using (var second = ApiFactory.With(new Dictionary<string, string?>(), sameDatabaseAs: first))
        {
            var replay = await GetJsonAsync(second.Client(), "/api/v1/replays/0123456789ab");
            Assert.Equal(("failed", "interrupted by a restart"), (replay.GetProperty("state").GetString(), replay.GetProperty("error").GetString()));
            Assert.Equal(JsonValueKind.String, replay.GetProperty("finished_at").ValueKind);
        }

        Assert.Equal(0, await Db.CountAsync(first.DataSource, "SELECT count(*) FROM pg_namespace WHERE nspname = 'whatif_0123456789ab'"));
        await AssertProblemAsync(await http.SendAsync(Admin(HttpMethod.Get, "/api/v1/replays/0123456789ab/diff")), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(Admin(HttpMethod.Delete, "/api/v1/replays/0123456789ab"))).StatusCode);

        var (exitCode, output) = await ServiceVerb.RunAsync(first.ConnectionString, "whatif", "--lookback-days", "3", "--from", (T0 + 2 * H).ToString("O"));

        Assert.True(exitCode == 0, $"whatif exited with {exitCode}:\n{output}");
        Assert.Contains("replayed 6 impressions", output, StringComparison.Ordinal);
        Assert.Contains("under a 3 d 0 h lookback, late after 1 h 0 m (live: 7 d 0 h, 1 h 0 m)", output, StringComparison.Ordinal);
        Assert.Contains("camp-a                   2 → 1 (-1)", output, StringComparison.Ordinal);
        Assert.Contains("changed impressions: 3", output, StringComparison.Ordinal);
        Assert.Contains("a-3 CONVERSION a-3-v1: credited to click a-3-c 4 d 0 h earlier → 4 d 0 h after the last click, beyond the 3 d 0 h window", output, StringComparison.Ordinal);
        var listed = Assert.Single((await GetJsonAsync(http, "/api/v1/replays")).GetProperty("replays").EnumerateArray());
        Assert.Equal("completed", listed.GetProperty("state").GetString());
    }
}
