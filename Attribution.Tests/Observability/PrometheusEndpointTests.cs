using Attribution.Api.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Attribution.Tests.Observability;

public class PrometheusEndpointTests
{
    [Fact]
    public async Task Given_requests_to_a_wired_app_when_metrics_are_scraped_then_they_are_counted_by_route_method_and_status()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();

        await client.GetAsync(new Uri("/items/1", UriKind.Relative));
        await client.GetAsync(new Uri("/items/2", UriKind.Relative));
        await client.PostAsync(new Uri("/items/3", UriKind.Relative), null);
        await client.GetAsync(new Uri("/boom", UriKind.Relative));
        await client.GetAsync(new Uri("/nowhere/42", UriKind.Relative));
        var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        var scraped = PrometheusTextParser.Parse(body);

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal("counter", scraped.Families["http_server_requests_total"].Type);
        Assert.Equal(2, scraped.Value("http_server_requests_total", ("route", "/items/{id:int}"), ("method", "GET"), ("status", "200")));
        Assert.Equal(1, scraped.Value("http_server_requests_total", ("route", "/items/{id:int}"), ("method", "POST"), ("status", "201")));
        Assert.Equal(1, scraped.Value("http_server_requests_total", ("route", "/boom"), ("method", "GET"), ("status", "500")));
        Assert.Equal(1, scraped.Value("http_server_requests_total", ("route", "unmatched"), ("method", "GET"), ("status", "404")));
        Assert.Equal("histogram", scraped.Families["http_server_request_duration_seconds"].Type);
        Assert.Equal(2, scraped.Value("http_server_request_duration_seconds_count", ("route", "/items/{id:int}"), ("method", "GET"), ("status", "200")));
        Assert.True(scraped.Has("http_server_request_duration_seconds_bucket", ("route", "/items/{id:int}"), ("method", "GET"), ("status", "200"), ("le", "0.005")));
    }

    [Fact]
    public async Task Given_an_unusual_method_when_counted_then_it_is_labelled_other_to_bound_cardinality()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();

        await client.SendAsync(new HttpRequestMessage(new HttpMethod("BREW"), new Uri("/items/1", UriKind.Relative)));
        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.Equal(1, scraped.AllSamples.Where(s => s.Name == "http_server_requests_total" && s.Labels["method"] == "_OTHER").Sum(s => s.Value));
    }

    [Fact]
    public async Task Given_a_scrape_path_when_mapped_then_metrics_are_served_there()
    {
        await using var app = await StartAppAsync("/internal/metrics");
        var client = app.GetTestClient();
        await client.GetAsync(new Uri("/items/1", UriKind.Relative));

        var response = await client.GetAsync(new Uri("/internal/metrics", UriKind.Relative));

        Assert.True(response.IsSuccessStatusCode);
        Assert.True(PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync()).Has(
            "http_server_requests_total", ("route", "/items/{id:int}"), ("method", "GET"), ("status", "200")));
    }

    [Fact]
    public async Task Given_the_runtime_meter_when_scraped_then_the_gc_heaps_and_the_working_set_are_gauges_in_bytes()
    {
        await using var app = await StartAppAsync();
        var client = app.GetTestClient();
        GC.Collect();

        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.Equal("gauge", scraped.Families["dotnet_process_memory_working_set_bytes"].Type);
        Assert.True(scraped.Value("dotnet_process_memory_working_set_bytes") > 1 << 20);
        Assert.Equal("gauge", scraped.Families["dotnet_gc_last_collection_heap_size_bytes"].Type);
        foreach (var generation in new[] { "gen0", "gen1", "gen2", "loh", "poh" })
            Assert.True(scraped.Has("dotnet_gc_last_collection_heap_size_bytes", ("gc_heap_generation", generation)));
        Assert.True(scraped.Value("dotnet_gc_collections_total", ("gc_heap_generation", "gen2")) >= 1);
    }

    [Fact]
    public async Task Given_runtime_metrics_switched_off_when_scraped_then_only_the_service_meters_are_exported()
    {
        await using var app = await StartAppAsync(exportRuntime: false);
        var client = app.GetTestClient();
        await client.GetAsync(new Uri("/items/1", UriKind.Relative));

        var scraped = PrometheusTextParser.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)));

        Assert.True(scraped.Has("http_server_requests_total", ("route", "/items/{id:int}"), ("method", "GET"), ("status", "200")));
        Assert.DoesNotContain(scraped.Families.Keys, name => name.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    private static async Task<WebApplication> StartAppAsync(string? scrapePath = null, bool exportRuntime = true)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddPrometheusExporter(o => o.ExportRuntimeMetrics = exportRuntime);
        var app = builder.Build();

        // Stands in for the product's exception handler, outside the metrics middleware like UseExceptionHandler.
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (InvalidOperationException)
            {
                context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            }
        });
        app.UseHttpMetrics();
        app.MapGet("/items/{id:int}", (int id) => Results.Ok(id)).WithName("GetItem");
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
