using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Projections.Users;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Api.Users;

/// <summary>
/// GET /api/v1/audience through HTTP against figures computed here from the events and profiles the test sends:
/// each impression in the groups of the profile valid at its impression time, "unknown" without one.
/// </summary>
public sealed class AudienceTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private HttpClient _client = null!;

    private sealed record Profile(string? Age, string? Gender, string? Segment, string[] Interests);

    private sealed record Imp(string Id, string User, TimeSpan At, decimal Bid, string Campaign, bool Clicked, decimal? Converted);

    // u-1 changes profile at T0+1h; u-2 has one from before; u-3 never has one; u-4 gets one only at T0+2h.
    private static readonly (string User, TimeSpan From, Profile Profile)[] Profiles =
    [
        ("u-1", TimeSpan.FromHours(-1), new("25-34", "female", "gold", ["travel", "cooking"])),
        ("u-1", TimeSpan.FromHours(1), new("35-44", "female", "silver", ["travel"])),
        ("u-2", TimeSpan.FromHours(-1), new("18-24", "male", null, [])),
        ("u-4", TimeSpan.FromHours(2), new("65+", null, "gold", ["gardening"])),
    ];

    private static readonly Imp[] Impressions = Enumerable.Range(0, 48).Select(i => new Imp(
        $"aud-{i:D2}", $"u-{i % 4 + 1}", TimeSpan.FromMinutes(i * 7 - 30), 0.25m + i % 5 * 0.5m, i % 3 == 0 ? "camp-x" : "camp-y",
        Clicked: i % 2 == 0, Converted: i % 4 == 0 ? 2m + i : null)).ToArray();

    public async Task InitializeAsync()
    {
        _client = _api.CreateClient();
        _client.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        foreach (var profile in Profiles) await PutProfile(profile);
        await Apply(Impressions);
    }

    private async Task PutProfile((string User, TimeSpan From, Profile Profile) profile)
    {
        var (user, from, p) = profile;
        var response = await _client.PutAsJsonAsync(new Uri($"/api/v1/users/{user}", UriKind.Relative),
            new { age_band = p.Age, gender = p.Gender, segment = p.Segment, interests = p.Interests, effective_at = new DateTimeOffset(T0 + from) });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    private async Task Apply(IEnumerable<Imp> impressions)
    {
        var events = new List<JsonObject>();
        foreach (var m in impressions)
        {
            events.Add(Impression(m.Id, $"{m.Id}-i", m.At, m.Bid, m.Campaign, m.User));
            if (m.Clicked) events.Add(Click(m.Id, $"{m.Id}-c", m.At + TimeSpan.FromSeconds(30)));
            if (m.Converted is { } value) events.Add(Conversion(m.Id, $"{m.Id}-v", m.At + TimeSpan.FromMinutes(5), value));
        }

        await _api.ApplyAsync(events);
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        _api.Dispose();
        return Task.CompletedTask;
    }

    // What the test has sent: the fixed data above, then whatever a test adds.
    private readonly List<(string User, TimeSpan From, Profile Profile)> _profiles = [.. Profiles];
    private readonly List<Imp> _impressions = [.. Impressions];

    private Profile? ProfileAt(string user, TimeSpan at) =>
        _profiles.Where(p => p.User == user && p.From <= at).OrderBy(p => p.From).Select(p => p.Profile).LastOrDefault();

    private static IEnumerable<string> Groups(Profile? p, string dimension) => dimension switch
    {
        "age_band" => [p?.Age ?? "unknown"],
        "gender" => [p?.Gender ?? "unknown"],
        "segment" => [p?.Segment ?? "unknown"],
        "interest" => p is null || p.Interests.Length == 0 ? ["unknown"] : p.Interests,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension)),
    };

    /// <summary>The expected rows, keyed by their groups joined with '|'.</summary>
    private Dictionary<string, (long Imps, long Reach, long Clicks, long Conv, decimal Cost, decimal Revenue)> Expected(
        string[] groupBy, TimeSpan from, TimeSpan to, string? campaign)
    {
        IEnumerable<IEnumerable<string>> Keys(Profile? p) => groupBy.Aggregate(
            (IEnumerable<IEnumerable<string>>)[[]], (acc, d) => acc.SelectMany(prefix => Groups(p, d).Select(g => prefix.Append(g))));
        return _impressions
            .Where(m => m.At >= from && m.At < to && (campaign is null || m.Campaign == campaign))
            .SelectMany(m => Keys(ProfileAt(m.User, m.At)).Select(k => (Key: string.Join('|', k), m)))
            .GroupBy(x => x.Key, x => x.m)
            .ToDictionary(g => g.Key, g => ((long)g.Count(), (long)g.Select(m => m.User).Distinct().Count(), (long)g.Count(m => m.Clicked),
                (long)g.Count(m => m.Converted is not null && m.Clicked), g.Sum(m => m.Bid), g.Sum(m => m.Clicked ? m.Converted ?? 0m : 0m)));
    }

    private async Task AssertAudience(string[] groupBy, TimeSpan from, TimeSpan to, string? campaign = null)
    {
        var url = $"/api/v1/audience?from={Uri.EscapeDataString(Iso(T0 + from))}&to={Uri.EscapeDataString(Iso(T0 + to))}&group_by={string.Join(',', groupBy)}" +
                  (campaign is null ? "" : $"&campaign_id={campaign}");
        var response = await _client.GetAsync(new Uri(url, UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var rows = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rows").EnumerateArray().ToList();
        var expected = Expected(groupBy, from, to, campaign);
        Assert.True(expected.Count > 0);
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            var key = string.Join('|', groupBy.Select(d => row.GetProperty(d).GetString()));
            Assert.True(expected.TryGetValue(key, out var want), $"unexpected group {key}");
            Assert.Equal(want, (row.GetProperty("impressions").GetInt64(), row.GetProperty("unique_reach").GetInt64(), row.GetProperty("clicks").GetInt64(),
                row.GetProperty("conversions").GetInt64(), row.GetProperty("cost").GetDecimal(), row.GetProperty("revenue").GetDecimal()));
            AssertRatio(want.Imps == 0 ? null : (double)want.Clicks / want.Imps, row.GetProperty("ctr"), key);
            AssertRatio(want.Clicks == 0 ? null : (double)want.Conv / want.Clicks, row.GetProperty("cvr"), key);
            AssertRatio(want.Cost == 0 ? null : (double)(want.Revenue / want.Cost), row.GetProperty("roas"), key);
        }
    }

    private static void AssertRatio(double? want, JsonElement got, string key)
    {
        if (want is null) Assert.Equal(JsonValueKind.Null, got.ValueKind);
        else Assert.True(Math.Abs(want.Value - got.GetDouble()) < 1e-9, $"{key}: {want} vs {got}");
    }

    [Fact]
    public async Task Each_impression_counts_in_the_bands_of_the_profile_valid_at_its_impression_time_and_users_without_one_in_unknown()
    {
        await AssertAudience(["age_band", "gender", "segment", "interest"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
        await AssertAudience(["age_band"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
        await AssertAudience(["interest"], TimeSpan.FromMinutes(30), TimeSpan.FromHours(3), campaign: "camp-x");
        await AssertAudience(["age_band", "gender", "segment"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6), campaign: "camp-x");
        await AssertAudience([], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
    }

    [Fact]
    public async Task The_profile_boundary_splits_a_users_impressions_between_their_versions()
    {
        // u-1's impressions before T0+1h are 25-34, from it 35-44; u-4's are unknown until T0+2h.
        var rows = (await _client.GetFromJsonAsync<JsonElement>(new Uri(
            $"/api/v1/audience?from={Uri.EscapeDataString(Iso(T0.AddHours(-1)))}&to={Uri.EscapeDataString(Iso(T0.AddHours(6)))}&group_by=age_band",
            UriKind.Relative))).GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("age_band").GetString()!, r => r.GetProperty("impressions").GetInt64());
        long Count(string user, Func<TimeSpan, bool> when) => Impressions.Count(m => m.User == user && when(m.At));
        Assert.Equal(Count("u-1", t => t < TimeSpan.FromHours(1)), rows["25-34"]);
        Assert.Equal(Count("u-1", t => t >= TimeSpan.FromHours(1)), rows["35-44"]);
        Assert.Equal(Count("u-4", t => t >= TimeSpan.FromHours(2)), rows["65+"]);
        Assert.Equal(Count("u-3", _ => true) + Count("u-4", t => t < TimeSpan.FromHours(2)), rows["unknown"]);
    }

    /// <summary>Shapes that read the cube once it is built: hour buckets (all campaigns), day buckets (one campaign, a
    /// whole day), both with live edges; and shapes it never serves (interest with a band, three bands and more).</summary>
    private async Task AssertEveryShape()
    {
        var day = T0.Date - T0;
        await AssertAudience(["age_band", "gender"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
        await AssertAudience(["interest"], TimeSpan.FromMinutes(-25), TimeSpan.FromMinutes(290));
        await AssertAudience(["interest", "segment"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
        await AssertAudience(["segment"], day, day + TimeSpan.FromDays(1), campaign: "camp-x");
        await AssertAudience(["interest"], day, day + TimeSpan.FromDays(2), campaign: "camp-y");
        await AssertAudience(["segment", "gender"], day, day + TimeSpan.FromDays(2), campaign: "camp-y");
        await AssertAudience([], day - TimeSpan.FromDays(1), day + TimeSpan.FromDays(1));
        await AssertAudience(["age_band", "gender", "segment", "interest"], TimeSpan.FromHours(-1), TimeSpan.FromHours(6));
    }

    [Fact]
    public async Task The_cube_answers_as_gold_does_and_an_impression_or_a_profile_changed_after_its_refresh_counts_at_once()
    {
        var cube = _api.Services.GetRequiredService<AudienceCube>();
        await AssertEveryShape(); // nothing built yet: all from Gold
        var refresh = await cube.RefreshAsync(CancellationToken.None);
        Assert.Equal(1, refresh.Days); // every impression is on T0's day
        Assert.True(refresh.Cells > 0);
        await AssertEveryShape();

        // The answer comes from the cells: a cell changed behind the cube's back shows (and is put back), and so do facts.
        var day = T0.Date - T0;
        var db = _api.DataSource;
        await Db.CountAsync(db, "UPDATE audience_cells SET impressions = impressions + 1000 WHERE dims = 0 AND NOT hourly AND campaign_id = 'camp-x'");
        var tampered = await _client.GetFromJsonAsync<JsonElement>(new Uri(
            $"/api/v1/audience?from={Uri.EscapeDataString(Iso(T0.Date))}&to={Uri.EscapeDataString(Iso(T0.Date.AddDays(1)))}&campaign_id=camp-x", UriKind.Relative));
        Assert.Equal(Expected([], day, day + TimeSpan.FromDays(1), "camp-x").Single().Value.Imps + 1000,
            tampered.GetProperty("rows")[0].GetProperty("impressions").GetInt64());
        await Db.CountAsync(db, "UPDATE audience_cells SET impressions = impressions - 1000 WHERE dims = 0 AND NOT hourly AND campaign_id = 'camp-x'");

        // A grouping the cube does not cover comes from the facts: 1,000 added to each of camp-x's costs shows.
        await Db.CountAsync(db, "UPDATE audience_facts SET cost_micros = cost_micros + 1000000000 WHERE campaign_id = 'camp-x'");
        var facts = await _client.GetFromJsonAsync<JsonElement>(new Uri(
            $"/api/v1/audience?from={Uri.EscapeDataString(Iso(T0.Date))}&to={Uri.EscapeDataString(Iso(T0.Date.AddDays(1)))}&campaign_id=camp-x" +
            "&group_by=age_band,gender,segment", UriKind.Relative));
        var want = Expected([], day, day + TimeSpan.FromDays(1), "camp-x").Single().Value;
        Assert.Equal(want.Cost + 1000m * want.Imps, facts.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("cost").GetDecimal()));
        await Db.CountAsync(db, "UPDATE audience_facts SET cost_micros = cost_micros - 1000000000 WHERE campaign_id = 'camp-x'");

        // After the refresh: a new impression, and a profile for u-3 from T0+3h, are in the very next answers.
        Imp[] late = [new("aud-late", "u-2", TimeSpan.FromMinutes(95), 1.5m, "camp-x", Clicked: true, Converted: 9m)];
        await Apply(late);
        _impressions.AddRange(late);
        (string, TimeSpan, Profile) u3 = ("u-3", TimeSpan.FromHours(3), new("45-54", "male", "gold", ["cooking"]));
        await PutProfile(u3);
        _profiles.Add(u3);
        await AssertEveryShape();
        await AssertTheHourBeforeT0IsStillReadFromTheCubeAndItsFacts();
        Assert.Equal(1, (await cube.RefreshAsync(CancellationToken.None)).Days);
        await AssertEveryShape();
    }

    /// <summary>Only the hours changed since the refresh are read from Gold (T0+1h: the late impression; from T0+3h: u-3's
    /// profile): the hour before T0 still comes from the cube and its facts, as a change made behind their back shows.</summary>
    private async Task AssertTheHourBeforeT0IsStillReadFromTheCubeAndItsFacts()
    {
        var db = _api.DataSource;
        var hour = T0.AddHours(-1);
        var range = $"from={Uri.EscapeDataString(Iso(hour))}&to={Uri.EscapeDataString(Iso(T0.AddHours(6)))}";
        var want = Expected([], TimeSpan.FromHours(-1), TimeSpan.FromHours(6), null).Single().Value;
        var inHour = _impressions.Count(m => m.At >= TimeSpan.FromHours(-1) && m.At < TimeSpan.Zero);
        Assert.True(inHour > 0);

        await Db.CountAsync(db, "UPDATE audience_cells SET impressions = impressions + 1000 WHERE dims = 0 AND hourly AND bucket = $1", hour);
        var cells = await _client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/audience?{range}", UriKind.Relative));
        Assert.Equal(want.Imps + 1000, cells.GetProperty("rows")[0].GetProperty("impressions").GetInt64());
        await Db.CountAsync(db, "UPDATE audience_cells SET impressions = impressions - 1000 WHERE dims = 0 AND hourly AND bucket = $1", hour);

        await Db.CountAsync(db, "UPDATE audience_facts SET cost_micros = cost_micros + 1000000000 WHERE impression_time >= $1 AND impression_time < $2", hour, T0);
        var facts = await _client.GetFromJsonAsync<JsonElement>(new Uri($"/api/v1/audience?{range}&group_by=age_band,gender,segment", UriKind.Relative));
        Assert.Equal(want.Cost + 1000m * inHour, facts.GetProperty("rows").EnumerateArray().Sum(r => r.GetProperty("cost").GetDecimal()));
        await Db.CountAsync(db, "UPDATE audience_facts SET cost_micros = cost_micros - 1000000000 WHERE impression_time >= $1 AND impression_time < $2", hour, T0);
    }

    [Theory]
    [InlineData("group_by=age_band", "'from' and 'to'")]
    [InlineData("from=2026-11-01&to=2026-11-02&group_by=birth_date", "group_by")]
    [InlineData("from=2026-11-01&to=2026-11-02&group_by=gender,gender", "twice")]
    [InlineData("from=2026-11-01&to=2027-11-02", "at most")]
    public async Task Bad_queries_get_a_problem_saying_what_is_wrong(string query, string says)
    {
        var response = await _client.GetAsync(new Uri("/api/v1/audience?" + query, UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(says, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
