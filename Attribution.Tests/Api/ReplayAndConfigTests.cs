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

/// <summary>The attribution config changed through the API, and replay (the rebuilder, and the `replay` verb of the built
/// service) re-deriving Gold under it, also while events keep arriving. Each test runs a service of its own.</summary>
public sealed class ReplayAndConfigTests
{
    private static readonly TimeSpan H = TimeSpan.FromHours(1);
    private static readonly TimeSpan D = TimeSpan.FromDays(1);

    /// <summary>An impression clicked after an hour and converted three days after the click: inside a 7-day lookback,
    /// outside a 2-day one.</summary>
    private static JsonObject[] ConvertedThreeDaysAfterTheClick(string id) =>
        [Impression(id, $"{id}-i", TimeSpan.Zero, 1.5m), Click(id, $"{id}-c", H), Conversion(id, $"{id}-v", H + 3 * D, 20m)];

    private static async Task Send(HttpClient http, IEnumerable<JsonObject> events)
    {
        var response = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray([.. events]).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Empty((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rejected").EnumerateArray());
    }

    private static Task<JsonElement> ImpressionView(HttpClient http, string id) =>
        http.GetFromJsonAsync<JsonElement>($"/api/v1/impressions/{id}");

    private static void AssertAttributed(JsonElement impression, decimal revenue, decimal outOfWindow)
    {
        Assert.Equal(revenue > 0, impression.GetProperty("is_converted").GetBoolean());
        Assert.Equal(revenue, impression.GetProperty("revenue").GetDecimal());
        Assert.Equal(outOfWindow, impression.GetProperty("revenue_out_of_window").GetDecimal());
    }

    private static HttpRequestMessage PutConfig(object change) =>
        new(HttpMethod.Put, "/api/v1/config/attribution") { Content = JsonContent.Create(change), Headers = { { "X-Admin-Key", ApiFactory.AdminKey } } };

    [Fact]
    public async Task A_lookback_changed_through_the_api_applies_to_later_batches_and_a_replay_re_derives_the_earlier_ones()
    {
        using var api = new ApiFactory();
        var http = api.Client();
        await Send(http, ConvertedThreeDaysAfterTheClick("before"));
        await api.WaitForDrainAsync(3);
        AssertAttributed(await ImpressionView(http, "before"), revenue: 20m, outOfWindow: 0m);

        var put = await http.SendAsync(PutConfig(new { lookback_days = 2 }));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var changed = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, changed.GetProperty("lookback_days").GetDouble());
        Assert.Equal(60, changed.GetProperty("late_threshold_minutes").GetDouble()); // left out, so unchanged
        Assert.Equal(2, (await http.GetFromJsonAsync<JsonElement>("/api/v1/config/attribution")).GetProperty("lookback_days").GetDouble());

        // A later batch is attributed under the new lookback; the impression applied before keeps its outcome.
        await Send(http, ConvertedThreeDaysAfterTheClick("after"));
        await api.WaitForDrainAsync(6);
        AssertAttributed(await ImpressionView(http, "after"), revenue: 0m, outOfWindow: 20m);
        AssertAttributed(await ImpressionView(http, "before"), revenue: 20m, outOfWindow: 0m);

        // Replay re-derives every impression under the config in force now.
        await api.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(null, CancellationToken.None);

        AssertAttributed(await ImpressionView(http, "before"), revenue: 0m, outOfWindow: 20m);
        AssertAttributed(await ImpressionView(http, "after"), revenue: 0m, outOfWindow: 20m);
        var audit = await http.GetFromJsonAsync<JsonElement>("/api/v1/audit?reason=OUT_OF_WINDOW&limit=100");
        Assert.Equal(["after-v", "before-v"], audit.GetProperty("rows").EnumerateArray().Select(r => r.GetProperty("event_id").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_replay_while_events_keep_arriving_loses_none_and_ends_in_the_gold_a_quiet_replay_gives()
    {
        using var api = new ApiFactory();
        var http = api.Client();
        var events = GeneratedEvents(seed: 41, impressions: 1200);
        var (first, second) = (events.Take(events.Count / 2).ToList(), events.Skip(events.Count / 2).ToList());
        await Send(http, first);
        await api.WaitForDrainAsync(first.Count);

        // The second half is sent and accepted while the replay's transaction is open (after its first chunk): whatever
        // of it reaches the consumer meanwhile waits for the replay, and is applied after it.
        var sentDuringReplay = false;
        var progress = new Inline(_ =>
        {
            if (sentDuringReplay) return;
            sentDuringReplay = true;
            if (!Task.Run(() => Send(http, second)).Wait(TimeSpan.FromMinutes(2)))
                throw new TimeoutException("the second half was not accepted while the replay ran");
        });
        var (replayed, _) = await api.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(progress, CancellationToken.None, chunk: 100);

        Assert.True(sentDuringReplay);
        Assert.Equal(first.Select(e => e["impression_id"]!.ToString()).Distinct().Count(), replayed);
        var status = await api.WaitForDrainAsync(events.Count);
        Assert.Equal(events.Count, status.EventsApplied);
        Assert.Equal(0, status.LostMessages);
        Assert.Equal(events.Count, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM events"));
        Assert.Equal(1200, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM ad_performance_state WHERE impression_time IS NOT NULL"));
        var gold = await Db.GoldSnapshotAsync(api.DataSource);
        var audit = await Db.AuditSnapshotAsync(api.DataSource);

        await api.Services.GetRequiredService<GoldRebuilder>().RebuildAsync(null, CancellationToken.None);

        Assert.Equal(gold, await Db.GoldSnapshotAsync(api.DataSource));
        Assert.Equal(audit, await Db.AuditSnapshotAsync(api.DataSource));
    }

    [Fact]
    public async Task The_replay_verb_of_the_built_service_restores_gold_and_applies_the_config_in_force()
    {
        using var api = new ApiFactory();
        var http = api.Client();
        await Send(http, [.. ConvertedThreeDaysAfterTheClick("cli-1"), .. ConvertedThreeDaysAfterTheClick("cli-2")]);
        await api.WaitForDrainAsync(6);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(PutConfig(new { lookback_days = 2 }))).StatusCode);
        await using (var corrupt = api.DataSource.CreateCommand("UPDATE ad_performance_state SET cost = 99, is_clicked = false WHERE impression_id = 'cli-2'"))
            await corrupt.ExecuteNonQueryAsync();

        var (exitCode, output) = await ServiceVerb.RunAsync(api.ConnectionString, "replay");

        Assert.True(exitCode == 0, $"replay exited with {exitCode}:\n{output}");
        Assert.Contains("replay: rebuilt 2 impressions from 6 events", output, StringComparison.Ordinal);
        foreach (var id in new[] { "cli-1", "cli-2" })
        {
            var impression = await ImpressionView(http, id);
            AssertAttributed(impression, revenue: 0m, outOfWindow: 20m);
            Assert.True(impression.GetProperty("is_clicked").GetBoolean());
            Assert.Equal(1.5m, impression.GetProperty("cost").GetDecimal());
        }
    }

    /// <summary>Reports on the rebuilder's own thread, between its chunks.</summary>
    private sealed class Inline(Action<(long Done, long Total)> report) : IProgress<(long Done, long Total)>
    {
        public void Report((long Done, long Total) value) => report(value);
    }
}
