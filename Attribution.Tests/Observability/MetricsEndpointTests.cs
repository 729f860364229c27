using System.Globalization;
using System.Text.Json.Nodes;
using Attribution.Projections.Jobs;
using Attribution.Projections.Observability;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Attribution.Tests.Observability;

/// <summary>The service's own /metrics, read with the strict parser while events flow through the whole pipeline.</summary>
public sealed class MetricsEndpointTests
{
    private static string Line(string eventId, string type, string? impressionId, DateTime? at = null, Action<JsonObject>? more = null)
    {
        var o = new JsonObject { ["event_id"] = eventId, ["event_type"] = type, ["campaign_id"] = "camp-m" };
        if (impressionId is not null) o["impression_id"] = impressionId;
        if (at is { } t) o["event_timestamp"] = new DateTimeOffset(t).ToUnixTimeMilliseconds() / 1000m;
        more?.Invoke(o);
        return o.ToJsonString();
    }

    private static double Or0(PromExposition p, string name, params (string, string)[] labels) =>
        p.Has(name, labels) ? p.Value(name, labels) : 0;

    [Fact]
    public async Task Key_series_move_as_events_flow_from_the_tracking_endpoints_into_gold()
    {
        using var service = new ServiceUnderScrape();
        using var client = service.Client();
        var before = await service.ScrapeAsync(client);

        var now = DateTime.UtcNow; // also: before the first request went out
        var lines = new List<string>
        {
            Line("m-imp-1", "IMPRESSION", "m-1"),
            Line("m-imp-1", "IMPRESSION", "m-1"), // the same event twice: one DUPLICATE_EVENT
            Line("m-imp-4", "IMPRESSION", "m-4"),
            Line("m-imp-5", "IMPRESSION", "m-5"),
            Line("m-clk-1", "CLICK", "m-1"),
            // Happened hours before it reached us: applied, and late (threshold 1 h).
            Line("m-imp-2", "IMPRESSION", "m-2", now.AddHours(-3)),
            Line("m-clk-2", "CLICK", "m-2", now.AddHours(-2)),
            // The click is 8 days older than the conversion: the conversion is OUT_OF_WINDOW (lookback 7 days).
            Line("m-imp-3", "IMPRESSION", "m-3", now.AddDays(-9)),
            Line("m-clk-3", "CLICK", "m-3", now.AddDays(-8)),
            Line("m-cnv-3", "CONVERSION", "m-3", null, o => o["conversion_value"] = 20),
            Line("m-bad", "IMPRESSION", null), // no impression_id: INVALID
        };
        using (var response = await client.PostAsync(new Uri("/api/v1/events", UriKind.Relative), ServiceUnderScrape.Ndjson(lines)))
            Assert.Equal(202, (int)response.StatusCode);
        for (var i = 0; i < 3; i++)
        {
            using var pixel = await client.GetAsync(new Uri($"/pixel?impression_id=px-{i}&campaign_id=camp-m&bid_price=0.5", UriKind.Relative));
            Assert.Equal(200, (int)pixel.StatusCode);
        }

        var lastAnswered = DateTime.UtcNow;

        const int applied = 9 + 3;
        await service.WaitForDrainAsync(applied);
        var drained = DateTime.UtcNow;
        // A real export through the runner Hangfire calls: its run and its Iceberg commit report themselves.
        var export = await service.Services.GetRequiredService<MaintenanceJobRunner>().RunAsync("export-bronze", null, CancellationToken.None);
        // Bronze is partitioned by the hour of event_time: one file per distinct hour of the stored events.
        var hours = await Db.CountAsync(service.Services.GetRequiredService<NpgsqlDataSource>(),
            "SELECT count(DISTINCT date_trunc('hour', event_time AT TIME ZONE 'UTC')) FROM events");

        var scrapeStarted = DateTime.UtcNow;
        var after = await service.ScrapeDrainedAsync(client);
        var scrapeEnded = DateTime.UtcNow;

        // HTTP, by endpoint (route template), method and code; the scrapes themselves are not counted.
        Assert.Equal(3, after.Value("http_requests_received_total", Http("/pixel", "GET", 200)));
        Assert.Equal(1, after.Value("http_requests_received_total", Http("/api/v1/events", "POST", 202)));
        Assert.Equal(4, after.AllSamples.Where(s => s.Name == "http_requests_received_total").Sum(s => s.Value));
        Assert.Equal(3, after.Value("http_request_duration_seconds_count", Http("/pixel", "GET", 200)));

        // Received, by endpoint and type.
        Assert.Equal(3, Moved(before, after, "attribution_events_received_total", ("endpoint", "pixel"), ("type", "IMPRESSION")));
        Assert.Equal(6, Moved(before, after, "attribution_events_received_total", ("endpoint", "events"), ("type", "IMPRESSION")));
        Assert.Equal(3, Moved(before, after, "attribution_events_received_total", ("endpoint", "events"), ("type", "CLICK")));
        Assert.Equal(1, Moved(before, after, "attribution_events_received_total", ("endpoint", "events"), ("type", "CONVERSION")));
        Assert.Equal(1, Moved(before, after, "attribution_events_received_total", ("endpoint", "events"), ("type", "INVALID")));

        // Kafka produce: the forwarder took every spooled record to Kafka (the batch's eleven lines, the duplicate and the
        // invalid one included, and the three pixels; one timing each), none failed; the spool is empty again.
        Assert.Equal(lines.Count + 3, after.Value("attribution_kafka_produce_duration_seconds_count"));
        Assert.Equal(0, after.Value("attribution_kafka_produce_failures_total"));

        // Applied, with batch size, apply time and end-to-end latency for each applied event.
        Assert.Equal(applied, Moved(before, after, "attribution_events_applied_total"));
        Assert.Equal(applied, after.Value("attribution_pipeline_end_to_end_duration_seconds_count"));
        // Each event was ingested after the first request went out and applied before the drain was seen.
        Assert.InRange(after.Value("attribution_pipeline_end_to_end_duration_seconds_sum"), 0, applied * (drained - now).TotalSeconds);
        Assert.Equal(after.Value("attribution_pipeline_batch_size_count"), after.Value("attribution_pipeline_batch_duration_seconds_count"));
        Assert.Equal(lines.Count + 3, after.Value("attribution_pipeline_batch_size_sum"));
        Assert.Equal("histogram", after.Families["attribution_pipeline_batch_duration_seconds"].Type);

        // Freshness: the scrape's time minus the newest applied ingest stamp, which the service gave one of our requests
        // (stamps are whole milliseconds, so up to one earlier than the moment they were taken).
        var newest = service.Services.GetRequiredService<PipelineMetrics>().NewestAppliedIngestTime!.Value;
        Assert.InRange(newest, now.AddMilliseconds(-1), lastAnswered);
        Assert.Equal("gauge", after.Families["attribution_pipeline_freshness_seconds"].Type);
        Assert.InRange(after.Value("attribution_pipeline_freshness_seconds"), (scrapeStarted - newest).TotalSeconds, (scrapeEnded - newest).TotalSeconds);

        // Lag per partition, and lost messages per partition, both zero once drained.
        for (var p = 0; p < ServiceUnderScrape.Partitions; p++)
        {
            Assert.Equal(0, after.Value("attribution_kafka_consumer_lag", ("partition", P(p))));
            Assert.Equal(0, after.Value("attribution_kafka_lost_messages_total", ("partition", P(p))));
        }

        // Why events did not count, once each; late = applied events that arrived over an hour after they happened.
        Assert.Equal(1, Moved(before, after, "attribution_events_audited_total", ("reason", "DUPLICATE_EVENT")));
        Assert.Equal(1, Moved(before, after, "attribution_events_audited_total", ("reason", "INVALID")));
        Assert.Equal(1, Moved(before, after, "attribution_events_audited_total", ("reason", "OUT_OF_WINDOW")));
        Assert.Equal(4, Moved(before, after, "attribution_events_late_total"));

        // The export's run and its one append snapshot of the twelve stored events.
        Assert.Equal(applied, export.RowsTouched);
        Assert.Equal(1, after.Value("attribution_jobs_runs_total", ("job", "export-bronze"), ("outcome", "succeeded")));
        Assert.Equal(1, after.Value("attribution_jobs_duration_seconds_count", ("job", "export-bronze"), ("outcome", "succeeded")));
        Assert.Equal(applied, after.Value("attribution_jobs_rows_total", ("job", "export-bronze")));
        Assert.Equal(1, after.Value("attribution_lakehouse_snapshots_total", ("table", "bronze.ad_events"), ("operation", "append")));
        Assert.Equal(hours, after.Value("attribution_lakehouse_files_written_total", ("table", "bronze.ad_events")));
        Assert.Equal(hours, after.Value("attribution_lakehouse_data_files", ("table", "bronze.ad_events")));
        Assert.Equal(1, after.Value("attribution_lakehouse_table_snapshots", ("table", "bronze.ad_events")));
    }

    [Fact]
    public async Task A_refold_of_an_old_impression_does_not_count_its_earlier_events_again()
    {
        using var service = new ServiceUnderScrape();
        using var client = service.Client();
        var old = DateTime.UtcNow.AddHours(-5);
        using (var first = await client.PostAsync(new Uri("/api/v1/events", UriKind.Relative), ServiceUnderScrape.Ndjson(
                   [Line("r-imp", "IMPRESSION", "r-1", old), Line("r-cnv-a", "CONVERSION", "r-1", old.AddMinutes(1))])))
            Assert.Equal(202, (int)first.StatusCode);
        await service.WaitForDrainAsync(2);

        // The click comes later; the impression is folded again with all three events.
        using (var second = await client.PostAsync(new Uri("/api/v1/events", UriKind.Relative), ServiceUnderScrape.Ndjson(
                   [Line("r-clk", "CLICK", "r-1", old.AddSeconds(30))])))
            Assert.Equal(202, (int)second.StatusCode);
        await service.WaitForDrainAsync(3);
        var scraped = await service.ScrapeAsync(client);

        // Counted on arrival: the impression and the click were late when applied; the conversion arrived without a
        // click (NO_PRIOR_CLICK, not late) and the refold that later credits it counts nothing again.
        Assert.Equal(2, scraped.Value("attribution_events_late_total"));
        Assert.Equal(1, scraped.Value("attribution_events_audited_total", ("reason", "NO_PRIOR_CLICK")));
        Assert.Equal(3, scraped.Value("attribution_events_applied_total"));
    }

    private static (string, string)[] Http(string endpoint, string method, int code) =>
        [("code", code.ToString(CultureInfo.InvariantCulture)), ("method", method), ("controller", ""), ("action", ""), ("endpoint", endpoint)];

    private static string P(int p) => p.ToString(CultureInfo.InvariantCulture);

    private static double Moved(PromExposition before, PromExposition after, string name, params (string, string)[] labels) =>
        Or0(after, name, labels) - Or0(before, name, labels);
}
