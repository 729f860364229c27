using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Attribution.Domain.Tracking;
using Attribution.Projections;
using Attribution.Projections.Campaigns;
using Attribution.Projections.Observability;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Api;

/// <summary>Issue 19, no open redirect, through HTTP: /click follows a signed redirect or a landing domain of its
/// campaign and nothing else; a refused click answers 400 with no Location and spools nothing; keys rotate; signed
/// URLs come from GET /api/v1/click-urls.</summary>
public sealed class ClickRedirectTests(ClickRedirectTests.RotatedKeysApi api) : IClassFixture<ClickRedirectTests.RotatedKeysApi>
{
    /// <summary>The signing key put first; ApiFactory's own key, which the other tests sign with, is now second.</summary>
    public const string NewKey = "test-click-signing-key-0002-new";

    private readonly HttpClient _http = api.Client();

    /// <summary>A service mid-rotation: the new key signs, the old one still verifies.</summary>
    public sealed class RotatedKeysApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Tracking:ClickSigningKeys:0"] = NewKey,
        ["Tracking:ClickSigningKeys:1"] = ClickSigningKey,
    });

    /// <summary>A service that reaches PostgreSQL through a relay the test can cut: PostgreSQL "down" for it alone.</summary>
    private sealed class PostgresBehindProxyApi(TcpProxy proxy) : ApiFactory
    {
        protected override IDictionary<string, string?> Settings()
        {
            var settings = base.Settings();
            settings["ConnectionStrings:Postgres"] = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Host = "127.0.0.1", Port = proxy.Port, Timeout = 3 }.ConnectionString;
            settings["Tracking:LandingDomainRefreshSeconds"] = "0.2";
            return settings;
        }
    }


    private static async Task<JsonElement> Problem(HttpResponseMessage r, HttpStatusCode status)
    {
        Assert.Equal(status, r.StatusCode);
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        return await r.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string Click(string impression, string redirect, string? campaign = null, string? sig = null) =>
        $"/click?impression_id={Uri.EscapeDataString(impression)}&redirect={Uri.EscapeDataString(redirect)}" +
        (campaign is null ? "" : $"&campaign_id={Uri.EscapeDataString(campaign)}") + (sig is null ? "" : $"&sig={sig}");

    private async Task<HttpResponseMessage> PutCampaign(HttpClient http, string id, object change)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/campaigns/{id}") { Content = JsonContent.Create(change) };
        request.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return response;
    }

    private Task GoodCampaign() => PutCampaign(_http, "camp-good", new
    {
        name = "Good", budget_amount = 10, budget_type = "DAILY", status = "ACTIVE",
        landing_domains = new[] { "good.com", "*.good.example", "bücher.example" },
    });

    /// <summary>Clicks the endpoint has taken for the spool, valid or not: /click counts each one just before spooling it.</summary>
    private double ClicksTaken
    {
        get
        {
            var received = api.Services.GetRequiredService<PipelineMetrics>().EventsReceived;
            return received.WithLabels("CLICK", "click").Value + received.WithLabels("INVALID", "click").Value;
        }
    }

    private Task<long> Clicks(string impression) =>
        Db.CountAsync(api.DataSource, "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type = 'CLICK'", impression);

    [Fact]
    public async Task A_signed_click_redirects_302_to_its_target_with_the_click_id_and_records_exactly_that_one_click()
    {
        var r = await _http.GetAsync(ApiFactory.SignedClick("cr-signed", "https://Shop.Example/p?id=7#top", "campaign_id=no-such-campaign"));

        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        var location = r.Headers.Location!.ToString();
        Assert.StartsWith("https://shop.example/p?id=7&click_id=", location, StringComparison.Ordinal);
        Assert.EndsWith("#top", location, StringComparison.Ordinal);
        var clickId = System.Web.HttpUtility.ParseQueryString(new Uri(location).Query)["click_id"]!;
        await Eventually.TrueAsync(async () => await Clicks("cr-signed") == 1, "the signed click is stored");
        await api.WaitForDrainAsync(1);
        Assert.Equal(1, await Clicks("cr-signed"));
        Assert.Equal(1, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM events WHERE event_id = $1 AND stream_id = 'cr-signed'", clickId));
    }

    /// <summary>The redirect values of the known tricks, sent with campaign_id of a campaign that lists good.com,
    /// *.good.example and bücher.example, and without a signature.</summary>
    private static readonly string[] TrickRedirects =
    [
        "//evil.com/",
        "https:evil.com",
        "https:/evil.com",
        "https://good.com@evil.com/",
        "https://good.com.evil.com/",
        "https://evil.com\\@good.com/",
        "https:\\\\evil.com",
        "https://good.com\\.evil.com/",
        "https://%65vil.com/",
        "https://%67ood.com/",
        "https://EVIL.com/",
        "https://g\u043eod.com/",
        "https://b\u00fc\u0441her.example/",
        "javascript:alert(document.cookie)",
        "JAVASCRIPT://good.com/%0Aalert(1)",
        "https://good.com/\r\nLocation: https://evil.com/",
        "https://good.com\r\n.evil.com/",
        "https://user:pass@good.com/",
        "https://good.com:443@evil.com/",
        "https://good.com./",
        "https://good.com:99999/",
        "https://good.example/",
        "https://evilgood.com/",
        "https://good.com.",
        "ftp://good.com/",
        " https://good.com/",
        "https://[::1]/",
        "https://127.0.0.1/",
        "",
    ];

    public static TheoryData<string> Tricks() => [.. TrickRedirects];

    [Theory]
    [MemberData(nameof(Tricks))]
    public async Task Every_open_redirect_trick_is_answered_400_without_a_location_and_records_no_click(string redirect)
    {
        await GoodCampaign();
        var taken = ClicksTaken;

        var r = await _http.GetAsync(Click("cr-trick", redirect, campaign: "camp-good"));

        var problem = await Problem(r, HttpStatusCode.BadRequest);
        Assert.Null(r.Headers.Location);
        Assert.Equal("The click redirect is not allowed", problem.GetProperty("title").GetString());
        Assert.Equal(taken, ClicksTaken);
    }

    [Fact]
    public async Task Unsigned_clicks_without_a_listed_campaign_tricks_and_wrongly_signed_ones_are_refused_and_none_is_ever_recorded()
    {
        await GoodCampaign();
        var taken = ClicksTaken;
        var sig = ClickSigningKeys.Compute(NewKey, "cr-refused", "https://good.com/");

        string[] refused =
        [
            Click("cr-refused", "https://evil.example/phish"),
            Click("cr-refused", "https://good.com/"),
            Click("cr-refused", "https://good.com/", campaign: "camp-unknown"),
            Click("cr-refused", "https://evil.com/", sig: sig),
            Click("cr-refused", "https://good.com/", sig: sig.ToUpperInvariant()),
            Click("cr-refused", "https://good.com/", sig: ClickSigningKeys.Compute("a-key-nobody-configured", "cr-refused", "https://good.com/")),
            Click("cr-other", "https://good.com/", sig: sig),
            Click("cr-refused", "https://good.com/", sig: sig) + "&redirect=" + Uri.EscapeDataString("https://evil.com/"),
            Click("cr-refused", "https://good.com/", sig: sig) + "&sig=" + sig,
            Click("cr-refused", "https://evil.com/", campaign: "camp-good") + "&campaign_id=camp-evil",
            .. TrickRedirects.Select(t => Click("cr-refused", t, campaign: "camp-good")),
        ];
        var details = new List<string>();
        foreach (var url in refused)
        {
            var r = await _http.GetAsync(url);
            details.Add((await Problem(r, HttpStatusCode.BadRequest)).GetProperty("detail").GetString()!);
            Assert.Null(r.Headers.Location);
        }

        Assert.Equal(taken, ClicksTaken);
        Assert.Equal("The redirect is not allowed: the URL carries no 'sig', and no 'campaign_id' to check the host against.", details[0]);
        Assert.Equal("'redirect' is given 2 times; a click URL names it once", details[7]);
        // Everything spooled before a later click is applied once the pipeline has drained after it: none of the
        // refused ones is anywhere, not as a click, not as an INVALID event.
        Assert.Equal(HttpStatusCode.Redirect, (await _http.GetAsync(ApiFactory.SignedClick("cr-after-refused", "https://good.com/"))).StatusCode);
        await Eventually.TrueAsync(async () => await Clicks("cr-after-refused") == 1, "the click after the refused ones is stored");
        await api.WaitForDrainAsync(1);
        Assert.Equal(0, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM events WHERE stream_id IN ('cr-refused', 'cr-other')"));
        Assert.Equal(0, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM audit_log WHERE impression_id IN ('cr-refused', 'cr-other')"));
    }

    [Theory]
    [InlineData("https://GOOD.com/x?y=1", "https://good.com/x?y=1&click_id=")]
    [InlineData("https://good.com:8443/", "https://good.com:8443/?click_id=")]
    [InlineData("https://a.b.good.example/", "https://a.b.good.example/?click_id=")]
    [InlineData("https://bücher.example/", "https://xn--bcher-kva.example/?click_id=")]
    [InlineData("https://XN--BCHER-KVA.example/", "https://xn--bcher-kva.example/?click_id=")]
    [InlineData("https://good.com/?next=https%3A%2F%2Fevil.com", "https://good.com/?next=https%3A%2F%2Fevil.com&click_id=")]
    public async Task An_unsigned_click_to_a_landing_domain_of_its_campaign_redirects_to_the_checked_host(string redirect, string location)
    {
        await GoodCampaign();

        var r = await _http.GetAsync(Click("cr-landing", redirect, campaign: "camp-good"));

        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith(location, r.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Landing_domains_changed_on_this_instance_apply_to_the_very_next_click_by_put_and_by_staged_merge()
    {
        var link = Click("cr-put", "https://landing.example/", campaign: "camp-put");
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(link)).StatusCode);

        await PutCampaign(_http, "camp-put", new { name = "P", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", landing_domains = new[] { "landing.example" } });
        Assert.Equal(HttpStatusCode.Redirect, (await _http.GetAsync(link)).StatusCode);

        await PutCampaign(_http, "camp-put", new { landing_domains = new[] { "*.landing.example" } });
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(link)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await _http.GetAsync(Click("cr-put", "https://www.landing.example/", campaign: "camp-put"))).StatusCode);

        using var stage = new HttpRequestMessage(HttpMethod.Post, "/api/v1/campaigns:batch")
        {
            Content = JsonContent.Create(new { changes = new[] { new { campaign_id = "camp-put", landing_domains = new[] { "landing.example" } } } }),
        };
        stage.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        Assert.Equal(HttpStatusCode.Accepted, (await _http.SendAsync(stage)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _http.GetAsync(link)).StatusCode);
        using var merge = new HttpRequestMessage(HttpMethod.Post, "/api/v1/campaigns:merge");
        merge.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await _http.SendAsync(merge)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await _http.GetAsync(link)).StatusCode);
    }

    [Fact]
    public async Task Another_instance_follows_a_landing_domain_changed_here_once_it_has_read_the_campaigns_again()
    {
        // Another instance on the same database: it sees campaign changes made elsewhere only through its periodic
        // read, here every 0.2 s.
        using var second = ApiFactory.With(new Dictionary<string, string?>
        {
            ["Kafka:RunConsumer"] = "false",
            ["Tracking:LandingDomainRefreshSeconds"] = "0.2",
        }, sameDatabaseAs: api);
        var other = second.Client();
        var link = Click("cr-second", "https://second.example/", campaign: "camp-second");
        Assert.Equal(HttpStatusCode.BadRequest, (await other.GetAsync(link)).StatusCode);

        await PutCampaign(_http, "camp-second", new { name = "S", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", landing_domains = new[] { "second.example" } });

        Assert.Equal(HttpStatusCode.Redirect, (await _http.GetAsync(link)).StatusCode);
        await Eventually.TrueAsync(async () => (await other.GetAsync(link)).StatusCode == HttpStatusCode.Redirect,
            "the second instance follows the landing domain set through the first");
    }

    [Fact]
    public async Task During_a_key_rotation_urls_signed_with_the_old_key_still_redirect_and_click_urls_signs_with_the_new_one()
    {
        var old = await _http.GetAsync(ApiFactory.SignedClick("cr-rotate", "https://anywhere.example/a"));
        Assert.Equal(HttpStatusCode.Redirect, old.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/api/v1/click-urls?impression_id=cr-rotate-2&redirect={Uri.EscapeDataString("https://anywhere.example/b?c=d&e=f")}");
        request.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        var answer = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var body = await answer.Content.ReadFromJsonAsync<JsonElement>();
        var sig = body.GetProperty("sig").GetString();
        Assert.Equal(ClickSigningKeys.Compute(NewKey, "cr-rotate-2", "https://anywhere.example/b?c=d&e=f"), sig);
        var url = body.GetProperty("url").GetString()!;
        Assert.StartsWith("/click?impression_id=cr-rotate-2&redirect=", url, StringComparison.Ordinal);
        Assert.EndsWith("&sig=" + sig, url, StringComparison.Ordinal);
        // The URL as handed out works as it is, and with the pixel's fields appended.
        var followed = await _http.GetAsync(url + "&campaign_id=c-rot&creative_id=cr-9");
        Assert.Equal(HttpStatusCode.Redirect, followed.StatusCode);
        Assert.StartsWith("https://anywhere.example/b?c=d&e=f&click_id=", followed.Headers.Location!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Click_urls_needs_the_admin_key_and_a_clean_redirect()
    {
        var path = $"/api/v1/click-urls?impression_id=cr-cu&redirect={Uri.EscapeDataString("https://good.com/")}";
        async Task<HttpResponseMessage> Get(string url, string? key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (key is not null) request.Headers.Add("X-Admin-Key", key);
            return await _http.SendAsync(request);
        }

        await Problem(await Get(path, null), HttpStatusCode.Unauthorized);
        await Problem(await Get(path, "wrong-key"), HttpStatusCode.Forbidden);
        var notHttp = await Problem(await Get($"/api/v1/click-urls?impression_id=cr-cu&redirect={Uri.EscapeDataString("https://good.com@evil.com/")}", ApiFactory.AdminKey), HttpStatusCode.BadRequest);
        var noImpression = await Problem(await Get($"/api/v1/click-urls?redirect={Uri.EscapeDataString("https://good.com/")}", ApiFactory.AdminKey), HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.OK, (await Get(path, ApiFactory.AdminKey)).StatusCode);

        Assert.Equal("'redirect' must be a clean absolute http or https URL: it carries userinfo ('@' before the host)", notHttp.GetProperty("detail").GetString());
        Assert.Equal("'impression_id' is required", noImpression.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Without_a_click_signing_key_click_urls_answers_503_and_only_landing_domains_redirect()
    {
        // No key, as a deployment that passes an unset variable through configures it: an empty entry.
        using var unkeyed = ApiFactory.With(new Dictionary<string, string?> { ["Tracking:ClickSigningKeys:0"] = "" });
        var http = unkeyed.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/click-urls?impression_id=cr-nk&redirect={Uri.EscapeDataString("https://good.com/")}");
        request.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);

        var problem = await Problem(await http.SendAsync(request), HttpStatusCode.ServiceUnavailable);

        Assert.Contains("Tracking:ClickSigningKeys", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(ApiFactory.SignedClick("cr-nk", "https://good.com/"))).StatusCode);
        await PutCampaign(http, "camp-nk", new { name = "N", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", landing_domains = new[] { "good.com" } });
        Assert.Equal(HttpStatusCode.Redirect, (await http.GetAsync(Click("cr-nk", "https://good.com/", campaign: "camp-nk"))).StatusCode);
    }

    [Theory]
    [InlineData("Tracking:ClickSigningKeys:0", "too-short", "at least 16 characters")]
    [InlineData("Tracking:ClickSigningKeys", "a-single-value-not-a-list", "Tracking:ClickSigningKeys:0")]
    public void A_service_whose_click_signing_key_is_too_short_or_not_a_list_does_not_start(string key, string value, string why)
    {
        using var bad = ApiFactory.With(new Dictionary<string, string?> { ["Tracking:ClickSigningKeys:0"] = null, [key] = value });

        var e = Assert.ThrowsAny<Exception>(() => bad.Client());

        Assert.Contains(why, e.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(value, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_postgresql_is_down_clicks_still_redirect_by_landing_domain_and_by_signature_and_refuse_the_rest()
    {
        var server = new Npgsql.NpgsqlConnectionStringBuilder(TestPostgres.ServerConnectionString);
        using var proxy = TcpProxy.To(server.Host!, server.Port);
        using var outage = new PostgresBehindProxyApi(proxy);
        var http = outage.Client();
        await PutCampaign(http, "camp-out", new { name = "O", budget_amount = 1, budget_type = "DAILY", status = "ACTIVE", landing_domains = new[] { "out.example" } });

        proxy.Cut();

        await Eventually.TrueAsync(async () => (await http.GetAsync("/api/v1/campaigns/camp-out")).StatusCode == HttpStatusCode.ServiceUnavailable,
            "the campaign query to answer 503 with PostgreSQL gone");
        var cache = outage.Services.GetRequiredService<LandingDomainCache>();
        Assert.True(PostgresOutage.IsUnavailable(await Assert.ThrowsAnyAsync<Exception>(() => cache.RefreshAsync(CancellationToken.None))));
        var landing = await http.GetAsync(Click("cr-out", "https://out.example/sale", campaign: "camp-out"));
        var signed = await http.GetAsync(ApiFactory.SignedClick("cr-out", "https://elsewhere.example/"));
        var refused = await http.GetAsync(Click("cr-out", "https://evil.example/", campaign: "camp-out"));

        Assert.Equal(HttpStatusCode.Redirect, landing.StatusCode);
        Assert.StartsWith("https://out.example/sale?click_id=", landing.Headers.Location!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, signed.StatusCode);
        await Problem(refused, HttpStatusCode.BadRequest);
    }
}
