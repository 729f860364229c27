using Attribution.Api.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Observability;

/// <summary>The service's prometheus-net wiring on a small app, read back with the strict parser.</summary>
public class PrometheusEndpointTests
{
    /// <summary>prometheus-net's HTTP labels: controller and action stay empty for minimal APIs.</summary>
    private static (string, string)[] Request(string endpoint, string method, int code) =>
        [("code", code.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("method", method), ("controller", ""), ("action", ""), ("endpoint", endpoint)];

    [Fact]
    public async Task Given_requests_to_a_wired_app_when_metrics_are_scraped_then_they_are_counted_by_endpoint_method_and_code()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();

        await client.GetAsync(new Uri("/items/1", UriKind.Relative));
        await client.GetAsync(new Uri("/items/2", UriKind.Relative));
        await client.PostAsync(new Uri("/items/3", UriKind.Relative), null);
        await client.GetAsync(new Uri("/boom", UriKind.Relative));
        await client.GetAsync(new Uri("/nowhere/42", UriKind.Relative));
        var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var scraped = PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("counter", scraped.Families["http_requests_received_total"].Type);
        Assert.Equal(2, scraped.Value("http_requests_received_total", Request("/items/{id:int}", "GET", 200)));
        Assert.Equal(1, scraped.Value("http_requests_received_total", Request("/items/{id:int}", "POST", 201)));
        // The exception handler runs inside the metrics middleware: the request counts with the 500 it ended as.
        Assert.Equal(1, scraped.Value("http_requests_received_total", Request("/boom", "GET", 500)));
        Assert.Equal(1, scraped.Value("http_requests_received_total", Request("", "GET", 404)));
        Assert.Equal(5, scraped.AllSamples.Where(s => s.Name == "http_requests_received_total").Sum(s => s.Value));
        Assert.Equal("histogram", scraped.Families["http_request_duration_seconds"].Type);
        Assert.Equal(2, scraped.Value("http_request_duration_seconds_count", Request("/items/{id:int}", "GET", 200)));
        Assert.Equal(2, scraped.Value("http_request_duration_seconds_bucket", [.. Request("/items/{id:int}", "GET", 200), ("le", "+Inf")]));
        // Nothing is in flight once every response has been read.
        Assert.Equal("gauge", scraped.Families["http_requests_in_progress"].Type);
        Assert.Equal(0, scraped.Value("http_requests_in_progress", ("method", "GET"), ("controller", ""), ("action", ""), ("endpoint", "/items/{id:int}")));
    }

    [Fact]
    public async Task Given_an_unusual_method_when_sent_then_it_is_refused_before_it_can_become_a_series_of_its_own()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();

        using var brew = await client.SendAsync(new HttpRequestMessage(new HttpMethod("BREW"), new Uri("/items/1", UriKind.Relative)));
        using var get = await client.GetAsync(new Uri("/items/1", UriKind.Relative));
        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.Equal(405, (int)brew.StatusCode);
        Assert.Equal(["GET"], scraped.AllSamples.Where(s => s.Name.StartsWith("http_", StringComparison.Ordinal)).Select(s => s.Labels["method"]).Distinct());
    }

    [Fact]
    public async Task Given_a_scrape_path_when_mapped_then_metrics_are_served_there()
    {
        await using var app = await StartAppAsync("/internal/metrics");
        var client = app.GetTestClient();
        await client.GetAsync(new Uri("/items/1", UriKind.Relative));

        var response = await client.GetAsync(new Uri("/internal/metrics", UriKind.Relative));
        using var old = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(1, PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync())
            .Value("http_requests_received_total", Request("/items/{id:int}", "GET", 200)));
        Assert.Equal(404, (int)old.StatusCode);
    }

    [Fact]
    public async Task Given_two_hosts_in_one_process_when_each_is_scraped_then_each_exports_only_its_own_requests()
    {
        await using var first = await StartAppAsync();
        await using var second = await StartAppAsync();
        var one = first.GetTestClient();
        var two = second.GetTestClient();

        for (var i = 0; i < 3; i++) await one.GetAsync(new Uri("/items/1", UriKind.Relative));
        await two.GetAsync(new Uri("/items/1", UriKind.Relative));

        Assert.Equal(3, PrometheusTextParser.Parse(await one.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
            .Value("http_requests_received_total", Request("/items/{id:int}", "GET", 200)));
        Assert.Equal(1, PrometheusTextParser.Parse(await two.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
            .Value("http_requests_received_total", Request("/items/{id:int}", "GET", 200)));
    }

    [Fact]
    public async Task Given_runtime_metrics_when_scraped_then_the_process_and_the_gc_heaps_are_exported()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();
        var gen2Before = GC.CollectionCount(2);
        GC.Collect();

        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        // prometheus-net's process collector.
        Assert.Equal("gauge", scraped.Families["process_working_set_bytes"].Type);
        Assert.InRange(scraped.Value("process_working_set_bytes"), 1 << 20, Environment.WorkingSet * 4.0);
        Assert.InRange(scraped.Value("dotnet_collection_count_total", ("generation", "2")), gen2Before + 1, GC.CollectionCount(2));
        // .NET's System.Runtime meter through the meter adapter, named by prometheus-net's convention.
        Assert.Equal("gauge", scraped.Families["system_runtime_dotnet_gc_last_collection_heap_size"].Type);
        foreach (var generation in new[] { "gen0", "gen1", "gen2", "loh", "poh" })
            Assert.True(scraped.Has("system_runtime_dotnet_gc_last_collection_heap_size", ("gc_heap_generation", generation)), generation);
        // What the bench soak subtracts from the resident set: the GC's committed memory, no more than the process holds.
        Assert.InRange(scraped.Value("system_runtime_dotnet_gc_last_collection_memory_committed_size"), 1, scraped.Value("process_virtual_memory_bytes"));
    }

    [Fact]
    public async Task Given_runtime_metrics_switched_off_when_scraped_then_only_the_service_series_are_exported()
    {
        await using var app = await StartAppAsync(exportRuntime: false);
        var client = app.GetTestClient();
        await client.GetAsync(new Uri("/items/1", UriKind.Relative));

        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.Equal(1, scraped.Value("http_requests_received_total", Request("/items/{id:int}", "GET", 200)));
        Assert.Equal(["http_request_duration_seconds", "http_requests_in_progress", "http_requests_received_total"],
            scraped.Families.Keys.Order(StringComparer.Ordinal));
    }

    private static async Task<WebApplication> StartAppAsync(string? scrapePath = null, bool exportRuntime = true)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Observability:ExportRuntimeMetrics"] = exportRuntime ? "true" : "false" });
        builder.Services.AddProblemDetails();
        builder.Services.AddPrometheusMetrics(builder.Configuration.GetSection("Observability"));
        var app = builder.Build();

        // The product's order (ApiSetup.UseAttributionApi).
        app.UsePrometheusHttpMetrics();
        app.UseExceptionHandler();
        app.MapGet("/items/{id:int}", (int id) => Results.Ok(id));
        app.MapPost("/items/{id:int}", (int id) => Results.Created($"/items/{id}", id));
        app.MapMethods("/items/{id:int}", ["BREW"], (int id) => Results.Ok(id));
        app.MapGet("/boom", IResult () => throw new InvalidOperationException("boom"));
        if (scrapePath is null)
        {
            app.MapPrometheusScrape();
        }
        else
        {
            app.MapPrometheusScrape(scrapePath);
        }

        await app.StartAsync();
        return app;
    }
}
