using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;
using Npgsql;

namespace Attribution.Tests.Api;

/// <summary>What the fraud rules judge a client by: /pixel and /click record the connection's address and the
/// User-Agent header (never the URL's), batch and postback events carry their own, and the store keeps both.</summary>
public sealed class ClientCaptureTests
{
    private static async Task<(string? Ip, string? Agent)> StoredAsync(ApiFactory api, string eventId) =>
        await Eventually.ValueAsync(async () =>
        {
            await using var cmd = api.DataSource.CreateCommand("SELECT ip_address, user_agent FROM events WHERE event_id = $1");
            cmd.Parameters.Add(new NpgsqlParameter { Value = eventId });
            await using var r = await cmd.ExecuteReaderAsync();
            return await r.ReadAsync() ? (true, r.IsDBNull(0) ? null : r.GetString(0), r.IsDBNull(1) ? null : r.GetString(1)) : (false, null, null);
        }, found => found.Item1, $"event {eventId} stored") is var (_, ip, agent) ? (ip, agent) : default;

    [Fact]
    public async Task The_pixel_and_the_click_record_the_connections_address_and_user_agent_and_ignore_those_in_their_url()
    {
        using var api = new AddressedApi([], IPAddress.Parse("::ffff:203.0.113.9"));
        using var http = api.Client();
        using var pixel = new HttpRequestMessage(HttpMethod.Get, "/pixel?impression_id=cap-1&event_id=cap-1-i&ip_address=6.6.6.6&user_agent=Spoofed");
        pixel.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(pixel)).StatusCode);
        // A client that sends no User-Agent at all.
        using var bare = api.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var click = await bare.GetAsync(ApiFactory.SignedClick("cap-1", "https://shop.example/p", "event_id=cap-1-c"));
        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);

        Assert.Equal(("203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"), await StoredAsync(api, "cap-1-i"));
        Assert.Equal(("203.0.113.9", ""), await StoredAsync(api, "cap-1-c"));

        // A click sent without a User-Agent is a bot's (BOT_USER_AGENT): no click in Gold, one invalid click.
        var imp = await Eventually.ValueAsync(async () => await http.GetFromJsonAsync<JsonElement>("/api/v1/impressions/cap-1"),
            i => i.GetProperty("stream_version").GetInt32() >= 2, "both events folded");
        Assert.Equal((0, 1, false, false), (imp.GetProperty("click_count").GetInt32(), imp.GetProperty("invalid_click_count").GetInt32(),
            imp.GetProperty("fraud_suspected").GetBoolean(), imp.GetProperty("is_clicked").GetBoolean()));
        Assert.Equal(["BOT_USER_AGENT"], imp.GetProperty("fraud_reasons").EnumerateArray().Select(r => r.GetString()));
        await Eventually.TrueAsync(async () => await Db.CountAsync(api.DataSource,
            "SELECT count(*) FROM audit_log WHERE event_id = 'cap-1-c' AND reason = 'FRAUD_SUSPECTED' AND detail = 'BOT_USER_AGENT'") == 1, "the bot click audited");
    }

    [Fact]
    public async Task Batch_events_carry_their_own_address_and_user_agent_and_a_bad_address_is_refused_and_audited()
    {
        using var api = new AddressedApi([], IPAddress.Parse("198.51.100.1"));
        using var http = api.Client();
        JsonObject[] events =
        [
            new() { ["event_id"] = "cap-2-i", ["event_type"] = "IMPRESSION", ["impression_id"] = "cap-2", ["ip_address"] = "2001:DB8::7", ["user_agent"] = "" },
            new() { ["event_id"] = "cap-2-c", ["event_type"] = "CLICK", ["impression_id"] = "cap-2" },
            new() { ["event_id"] = "cap-2-x", ["event_type"] = "CLICK", ["impression_id"] = "cap-2", ["ip_address"] = "300.1.1.1" },
        ];
        var r = await http.PostAsync("/api/v1/events", new StringContent(new JsonArray(events).ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
        Assert.Contains("ip_address '300.1.1.1' is not an IPv4", await r.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // A server-to-server event is not the connection's client: nothing is stamped on it.
        Assert.Equal(("2001:db8::7", ""), await StoredAsync(api, "cap-2-i"));
        Assert.Equal((null, null), await StoredAsync(api, "cap-2-c"));
        await Eventually.TrueAsync(async () => await Db.CountAsync(api.DataSource,
            "SELECT count(*) FROM audit_log WHERE event_id = 'cap-2-x' AND reason = 'INVALID'") == 1, "the bad address audited");
    }
}
