using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Attribution.Api.Infrastructure;
using Attribution.Tests.Fixtures;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Api;

/// <summary>Limits and hygiene: 429 per client address on the query and admin endpoints and after refused
/// credentials, never on tracking; 503 when the spool is saturated; the security headers; X-Forwarded-For only from a
/// trusted proxy; Kestrel's header and body limits.</summary>
public sealed class RequestLimitsTests
{
    private static async Task<JsonElement> TooMany(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)r.StatusCode} {body}");
        Assert.Equal("application/problem+json", r.Content.Headers.ContentType?.MediaType);
        var seconds = int.Parse(r.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 60);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task The_query_endpoints_answer_429_past_the_limit_per_minute_and_tracking_is_never_limited_per_address()
    {
        using var api = new AddressedApi(new() { ["RateLimits:QueryPerMinute"] = "5" });
        using var http = api.Client();
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pipeline/status")).StatusCode);

        var problem = await TooMany(await http.GetAsync("/api/v1/metrics/campaigns"));
        Assert.Contains("RateLimits:QueryPerMinute", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/pixel?impression_id=rl-{i}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Refused_credentials_past_the_limit_answer_429_even_with_the_right_key_while_tracking_goes_on()
    {
        using var api = new AddressedApi(new() { ["RateLimits:AuthFailuresPerMinute"] = "3" });
        using var http = api.CreateDefaultClient(new Uri("http://localhost"));
        async Task<HttpResponseMessage> Admin(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/ingest-keys");
            request.Headers.Add("X-Admin-Key", key);
            return await http.SendAsync(request);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await Admin("guess-1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Admin("guess-2")).StatusCode);
        // An unsigned postback is a refusal too.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("/api/v1/conversions", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);

        var problem = await TooMany(await Admin(ApiFactory.AdminKey));
        Assert.Contains("RateLimits:AuthFailuresPerMinute", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await api.Client().PostAsync("/api/v1/events", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/pixel?impression_id=af-1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pipeline/status")).StatusCode);
    }

    [Fact]
    public async Task A_saturated_spool_sheds_load_with_503_and_retry_after_and_everything_acknowledged_is_stored()
    {
        using var api = new AddressedApi(new() { ["Ingest:MaxPendingAppends"] = "1" });
        using var http = api.Client();
        var answers = await Task.WhenAll(Enumerable.Range(0, 300).Select(async i =>
        {
            using var r = await http.GetAsync($"/pixel?impression_id=shed-{i}&campaign_id=c-shed");
            return (Id: $"shed-{i}", r.StatusCode, RetryAfter: r.Headers.RetryAfter, Type: r.Content.Headers.ContentType?.MediaType,
                Body: await r.Content.ReadAsStringAsync());
        }));

        var shed = answers.Where(a => a.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
        Assert.True(shed.Count > 0, "300 concurrent pixels against a spool that lets one wait: some are shed");
        Assert.All(shed, a =>
        {
            Assert.NotNull(a.RetryAfter);
            Assert.Equal("application/problem+json", a.Type);
            Assert.Contains("saturated", a.Body, StringComparison.Ordinal);
        });
        var acknowledged = answers.Where(a => a.StatusCode == HttpStatusCode.OK).Select(a => a.Id).ToList();
        Assert.Equal(300, acknowledged.Count + shed.Count);
        await api.WaitForDrainAsync(acknowledged.Count);
        foreach (var id in acknowledged) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v1/impressions/{id}")).StatusCode);
    }

    [Fact]
    public async Task Every_answer_says_nosniff_redirects_send_no_referrer_and_html_pages_carry_a_content_security_policy()
    {
        using var api = new ApiFactory();
        using var http = api.Client();

        using var pixel = await http.GetAsync("/pixel?impression_id=hdr-1");
        Assert.Equal("nosniff", pixel.Headers.GetValues("X-Content-Type-Options").Single());
        using var problem = await http.GetAsync("/api/v1/impressions/none-such");
        Assert.Equal(HttpStatusCode.NotFound, problem.StatusCode);
        Assert.Equal("nosniff", problem.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(problem.Headers.Contains("Content-Security-Policy"), "JSON answers need no page policy");

        using var redirect = await http.GetAsync("/jobs");
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("no-referrer", redirect.Headers.GetValues("Referrer-Policy").Single());

        using var dashboard = await http.GetAsync("/dashboard/");
        Assert.Equal("text/html", dashboard.Content.Headers.ContentType?.MediaType);
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, dashboard.Headers.GetValues("Content-Security-Policy").Single());
        using var swagger = await http.GetAsync("/swagger/index.html");
        Assert.Contains("frame-ancestors 'none'", swagger.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_trusted_proxies_x_forwarded_for_is_ignored_so_a_client_cannot_pick_a_fresh_address()
    {
        using var api = new AddressedApi(new() { ["RateLimits:QueryPerMinute"] = "3" }, IPAddress.Parse("203.0.113.7"));
        using var http = api.Client();
        async Task<HttpStatusCode> From(string address)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/pipeline/status");
            request.Headers.Add("X-Forwarded-For", address);
            return (await http.SendAsync(request)).StatusCode;
        }

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await From($"198.51.100.{i}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await From("198.51.100.99"));
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit_and_kestrel_refuses_oversized_headers_and_bodies()
    {
        await LiveService.RunAsync("limits", new Dictionary<string, string>
        {
            ["RateLimits__QueryPerMinute"] = "3",
            ["Tracking__TrustedProxies__0"] = "127.0.0.1",
            ["Tracking__MaxBodyBytes"] = "4096",
            ["Kafka__RunConsumer"] = "false",
        }, async service =>
        {
            using var http = service.Http();
            await service.WaitAsync(async () => (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).IsSuccessStatusCode, "the service to start");
            async Task<HttpStatusCode> From(string address)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/pipeline/status");
                request.Headers.Add("X-Forwarded-For", address);
                return (await http.SendAsync(request)).StatusCode;
            }

            for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, await From("198.51.100.1"));
            Assert.Equal(HttpStatusCode.TooManyRequests, await From("198.51.100.1"));
            Assert.Equal(HttpStatusCode.OK, await From("198.51.100.2"));

            using var huge = new HttpRequestMessage(HttpMethod.Get, "/pixel?impression_id=big-header");
            huge.Headers.Add("X-Padding", new string('x', 40 * 1024));
            Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await http.SendAsync(huge)).StatusCode);
            using var body = await http.PostAsync(new Uri("/api/v1/events", UriKind.Relative),
                new StringContent(new string(' ', 8192) + "{}", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, body.StatusCode);
            Assert.Equal("application/problem+json", body.Content.Headers.ContentType?.MediaType);
        });
    }
}
