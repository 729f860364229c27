using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Projections.Users;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api.Users;

/// <summary>dim_users through the API: PUT and the NDJSON batch under the admin key, SCD2 history, bands only.</summary>
public sealed class UserEndpointsTests : IAsyncLifetime
{
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

    private async Task<(HttpStatusCode Status, JsonElement Body)> Put(string id, object profile, HttpClient? client = null)
    {
        var response = await (client ?? _client).PutAsJsonAsync(new Uri($"/api/v1/users/{id}", UriKind.Relative), profile);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> Batch(string ndjson, HttpClient? client = null)
    {
        using var content = new StringContent(ndjson, Encoding.UTF8, "application/x-ndjson");
        var response = await (client ?? _client).PostAsync(new Uri("/api/v1/users:batch", UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement);
    }

    private async Task<List<JsonElement>> History(string id) =>
        (await _client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/users/{id}/history", UriKind.Relative))).EnumerateArray().ToList();

    [Fact]
    public async Task A_profile_opens_a_version_an_unchanged_one_opens_none_and_a_changed_band_closes_the_old_version_where_the_new_one_starts()
    {
        var t0 = new DateTimeOffset(T0);
        var created = await Put("u-1", new { age_band = "25-34", gender = "female", country = "de", interests = new[] { "Travel", "cooking" }, segment = "gold", effective_at = t0 });
        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal("created", created.Body.GetProperty("outcome").GetString());
        Assert.Equal("DE", created.Body.GetProperty("current").GetProperty("country").GetString());
        Assert.Equal(["cooking", "travel"], created.Body.GetProperty("current").GetProperty("interests").EnumerateArray().Select(i => i.GetString()));

        var same = await Put("u-1", new { age_band = "25-34", gender = "female", country = "DE", interests = new[] { "cooking", "travel" }, segment = "gold", effective_at = t0.AddHours(1) });
        Assert.Equal((HttpStatusCode.OK, "unchanged", false), (same.Status, same.Body.GetProperty("outcome").GetString(), same.Body.GetProperty("changed").GetBoolean()));

        var changed = await Put("u-1", new { age_band = "35-44", gender = "female", country = "DE", interests = new[] { "travel" }, effective_at = t0.AddHours(2) });
        Assert.Equal((HttpStatusCode.OK, "superseded"), (changed.Status, changed.Body.GetProperty("outcome").GetString()));

        var history = await History("u-1");
        Assert.Equal(2, history.Count);
        Assert.Equal(t0.AddHours(2), history[0].GetProperty("end_ts").GetDateTimeOffset());
        Assert.Equal(t0.AddHours(2), history[1].GetProperty("start_ts").GetDateTimeOffset());
        Assert.Equal(Scd2.OpenEnd, history[1].GetProperty("end_ts").GetDateTimeOffset());
        Assert.Equal((false, true), (history[0].GetProperty("is_current").GetBoolean(), history[1].GetProperty("is_current").GetBoolean()));
        Assert.Equal(JsonValueKind.Null, history[1].GetProperty("segment").ValueKind); // left out: no longer known
        Assert.Equal("gold", history[0].GetProperty("segment").GetString());

        var backdated = await Put("u-1", new { age_band = "65+", effective_at = t0 });
        Assert.Equal(HttpStatusCode.BadRequest, backdated.Status);
        Assert.Contains("before the current version's start", backdated.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await History("u-1")).Count);
    }

    [Theory]
    [InlineData("{\"age_band\": \"34\"}", "age_band")]
    [InlineData("{\"age_band\": \"1990-04-02\"}", "age_band")]
    [InlineData("{\"country\": \"Germany\"}", "country")]
    [InlineData("{\"interests\": [\"likes skiing\"]}", "interest")]
    public async Task Raw_personal_data_is_refused_with_a_problem_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        var response = await _client.PutAsync(new Uri("/api/v1/users/u-raw", UriKind.Relative), content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync(new Uri("/api/v1/users/u-raw", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Both_writes_and_the_reads_need_the_admin_key()
    {
        using var anonymous = _api.CreateClient();
        using var wrong = _api.CreateClient();
        wrong.DefaultRequestHeaders.Add("X-Admin-Key", "not-the-key");

        Assert.Equal(HttpStatusCode.Unauthorized, (await Put("u-k", new { age_band = "18-24" }, anonymous)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Put("u-k", new { age_band = "18-24" }, wrong)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Batch("{\"user_id\": \"u-k\"}\n", anonymous)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Batch("{\"user_id\": \"u-k\"}\n", wrong)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(new Uri("/api/v1/users/u-k", UriKind.Relative))).StatusCode);
        Assert.Null(await _api.Services.GetRequiredService<UserDimension>().CurrentAsync("u-k", CancellationToken.None));
    }

    [Fact]
    public async Task A_batch_is_one_merge_profiles_of_one_user_apply_in_time_order_and_one_invalid_line_applies_nothing()
    {
        var t0 = new DateTimeOffset(T0);
        string Line(string user, string age, DateTimeOffset at, string segment = "gold") =>
            JsonSerializer.Serialize(new { user_id = user, age_band = age, gender = "male", country = "US", interests = new[] { "sports" }, segment, effective_at = at });

        var invalid = await Batch(string.Join('\n', Line("u-a", "18-24", t0), "{\"user_id\": \"u-b\", \"age_band\": \"42\"}", Line("u-c", "18-24", t0)));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Contains("line 2", invalid.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null(await _api.Services.GetRequiredService<UserDimension>().CurrentAsync("u-a", CancellationToken.None));

        // Lines out of time order: u-a's later profile comes first; u-b repeats itself (no second version).
        var merged = await Batch(string.Join('\n',
            Line("u-a", "25-34", t0.AddHours(3)), Line("u-a", "18-24", t0), Line("u-b", "45-54", t0), Line("u-b", "45-54", t0.AddHours(1)), "") + "\n");
        Assert.Equal(HttpStatusCode.OK, merged.Status);
        Assert.Equal((4, 3, 1, 0), (merged.Body.GetProperty("received").GetInt32(), merged.Body.GetProperty("opened").GetInt32(),
            merged.Body.GetProperty("closed").GetInt32(), merged.Body.GetProperty("corrected").GetInt32()));
        Assert.Equal(["18-24", "25-34"], (await History("u-a")).Select(v => v.GetProperty("age_band").GetString()));
        Assert.Single(await History("u-b"));

        // The same batch again changes nothing; one line later with another band supersedes.
        var again = await Batch(Line("u-a", "25-34", t0.AddHours(4)) + "\n" + Line("u-b", "55-64", t0.AddHours(4)));
        Assert.Equal((1, 1), (again.Body.GetProperty("opened").GetInt32(), again.Body.GetProperty("closed").GetInt32()));
        var history = await _api.Services.GetRequiredService<UserDimension>().HistoryAsync("u-b", CancellationToken.None);
        Assert.Empty(Scd2.CheckHistory(history));
        Assert.Equal(["45-54", "55-64"], history.Select(v => v.Profile.AgeBand));
    }

    [Fact]
    public async Task The_traffic_generator_fills_a_profile_for_most_of_its_users_in_bands_the_service_accepts()
    {
        var model = new Attribution.Api.Simulation.TrafficModel(new Attribution.Api.Simulation.TrafficOptions { Seed = 7, Users = 500 });
        var simulator = new Attribution.Api.Simulation.TrafficSimulator(_api.Client(), model);

        var sent = await simulator.SendProfilesAsync(ApiFactory.AdminKey, perBatch: 120, CancellationToken.None);

        var expected = Enumerable.Range(0, 500).Select(model.ProfileOf).OfType<System.Text.Json.Nodes.JsonObject>().ToList();
        Assert.Equal(expected.Count, sent);
        Assert.InRange(sent, 400, 490); // about the 90 % ProfileRate
        Assert.Equal(sent, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_users WHERE is_current"));
        var users = _api.Services.GetRequiredService<UserDimension>();
        foreach (var p in expected.Take(20))
        {
            var stored = await users.CurrentAsync(p["user_id"]!.GetValue<string>(), CancellationToken.None);
            Assert.Equal((p["age_band"]!.GetValue<string>(), p["segment"]!.GetValue<string>()), (stored!.Profile.AgeBand, stored.Profile.Segment));
            Assert.Equal(p["interests"]!.AsArray().Select(i => i!.GetValue<string>()).Order(StringComparer.Ordinal), stored.Profile.Interests);
        }

        // Sent again, the same profiles open no version.
        await simulator.SendProfilesAsync(ApiFactory.AdminKey, perBatch: 500, CancellationToken.None);
        Assert.Equal(sent, await Db.CountAsync(_api.DataSource, "SELECT count(*) FROM dim_users"));
    }
}
