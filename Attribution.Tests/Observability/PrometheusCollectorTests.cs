using System.Diagnostics.Metrics;

namespace Attribution.Tests.Observability;

public class PrometheusCollectorTests
{
    [Fact]
    public void Given_every_instrument_kind_when_scraped_then_each_is_exposed_with_its_type_and_value()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<long>("jobs.completed", "{job}", "Jobs completed.");
        var upDown = f.Meter.CreateUpDownCounter<int>("jobs.running", "{job}");
        var gauge = f.Meter.CreateGauge<double>("queue.fill", "1");
        var histogram = f.Meter.CreateHistogram<double>("job.duration", "s", "Job time.", null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1] });
        f.Meter.CreateObservableCounter("cpu.time", () => 12.5, "s");
        f.Meter.CreateObservableGauge("consumer.lag", () => new Measurement<long>(42, new KeyValuePair<string, object?>("topic", "clicks")));
        f.Meter.CreateObservableUpDownCounter("connections.open", () => 3);

        counter.Add(2, new KeyValuePair<string, object?>("queue", "ingest"));
        counter.Add(3, new KeyValuePair<string, object?>("queue", "ingest"));
        upDown.Add(5);
        upDown.Add(-2);
        gauge.Record(0.25);
        gauge.Record(0.75);
        histogram.Record(0.05);
        histogram.Record(0.1);
        histogram.Record(0.5);
        histogram.Record(7);

        var scraped = f.Scrape();

        Assert.Equal("counter", scraped.Families["jobs_completed_total"].Type);
        Assert.Equal("Jobs completed.", scraped.Families["jobs_completed_total"].Help);
        Assert.Equal(5, scraped.Value("jobs_completed_total", ("queue", "ingest")));
        Assert.Equal("gauge", scraped.Families["jobs_running"].Type);
        Assert.Equal(3, scraped.Value("jobs_running"));
        Assert.Equal(0.75, scraped.Value("queue_fill_ratio"));
        Assert.Equal("histogram", scraped.Families["job_duration_seconds"].Type);
        Assert.Equal(2, scraped.Value("job_duration_seconds_bucket", ("le", "0.1")));
        Assert.Equal(3, scraped.Value("job_duration_seconds_bucket", ("le", "1")));
        Assert.Equal(4, scraped.Value("job_duration_seconds_bucket", ("le", "+Inf")));
        Assert.Equal(4, scraped.Value("job_duration_seconds_count"));
        Assert.Equal(7.65, scraped.Value("job_duration_seconds_sum"), 10);
        Assert.Equal("counter", scraped.Families["cpu_time_seconds_total"].Type);
        Assert.Equal(12.5, scraped.Value("cpu_time_seconds_total"));
        Assert.Equal(42, scraped.Value("consumer_lag", ("topic", "clicks")));
        Assert.Equal("gauge", scraped.Families["connections_open"].Type);
        Assert.Equal(3, scraped.Value("connections_open"));
    }

    [Fact]
    public void Given_observable_counters_when_scraped_twice_then_the_reported_total_is_taken_not_added()
    {
        using var f = new CollectorFixture();
        var total = 10;
        f.Meter.CreateObservableCounter("bytes.read", () => total, "By");

        Assert.Equal(10, f.Scrape().Value("bytes_read_bytes_total"));
        total = 25;
        Assert.Equal(25, f.Scrape().Value("bytes_read_bytes_total"));
    }

    [Fact]
    public void Given_an_observable_series_that_is_no_longer_reported_when_scraped_then_it_is_gone()
    {
        using var f = new CollectorFixture();
        var queues = new List<string> { "a", "b" };
        f.Meter.CreateObservableGauge("queue.depth", () => queues.Select(q => new Measurement<int>(1, new KeyValuePair<string, object?>("queue", q))));

        Assert.True(f.Scrape().Has("queue_depth", ("queue", "b")));
        queues.Remove("b");
        var scraped = f.Scrape();

        Assert.True(scraped.Has("queue_depth", ("queue", "a")));
        Assert.False(scraped.Has("queue_depth", ("queue", "b")));
    }

    [Fact]
    public void Given_hostile_tag_keys_and_values_when_scraped_then_labels_are_legal_and_values_round_trip()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<int>("hostile");
        const string nasty = "quote\" backslash\\ newline\n tab\t unicode é {}=,";

        counter.Add(1, new KeyValuePair<string, object?>("http.route", nasty), new KeyValuePair<string, object?>("__reserved", true), new KeyValuePair<string, object?>("2fa", 3.5));

        var scraped = f.Scrape();

        Assert.Equal(1, scraped.Value("hostile_total", ("http_route", nasty), ("_reserved", "true"), ("key_2fa", "3.5")));
    }

    [Fact]
    public void Given_tags_in_any_order_or_type_that_render_alike_when_recorded_then_they_share_one_series()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<int>("hits");
        KeyValuePair<string, object?> A(object? v) => new("a", v);
        KeyValuePair<string, object?> B(object? v) => new("b", v);

        counter.Add(1, A("x"), B(5));
        counter.Add(1, B(5), A("x"));
        counter.Add(1, B("5"), A("x"));
        counter.Add(1, A("x"), B(6));

        var scraped = f.Scrape();

        Assert.Equal(3, scraped.Value("hits_total", ("a", "x"), ("b", "5")));
        Assert.Equal(1, scraped.Value("hits_total", ("a", "x"), ("b", "6")));
    }

    [Fact]
    public void Given_tag_keys_that_sanitise_to_one_label_when_recorded_then_their_values_are_joined()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<int>("joined");

        counter.Add(1, new KeyValuePair<string, object?>("a.b", "dot"), new KeyValuePair<string, object?>("a_b", "underscore"));

        Assert.Equal(1, f.Scrape().Value("joined_total", ("a_b", "dot;underscore")));
    }

    [Fact]
    public void Given_a_histogram_tag_named_le_when_scraped_then_it_does_not_clash_with_the_bucket_label()
    {
        using var f = new CollectorFixture();
        var histogram = f.Meter.CreateHistogram<double>("sizes", null, null, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [1] });

        histogram.Record(0.5, new KeyValuePair<string, object?>("le", "mine"));

        Assert.Equal(1, f.Scrape().Value("sizes_bucket", ("key_le", "mine"), ("le", "1")));
    }

    [Fact]
    public void Given_constant_instrument_tags_when_scraped_then_they_are_labels_that_measurement_tags_override()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<int>("tagged", null, null, [new("region", "eu"), new("tier", "gold")]);

        counter.Add(1, new KeyValuePair<string, object?>("tier", "silver"));

        Assert.Equal(1, f.Scrape().Value("tagged_total", ("region", "eu"), ("tier", "silver")));
    }

    [Fact]
    public void Given_negative_or_nan_counter_increments_when_recorded_then_they_are_dropped()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<double>("monotonic");
        var histogram = f.Meter.CreateHistogram<double>("latency", "ms");

        counter.Add(4);
        counter.Add(-1);
        counter.Add(double.NaN);
        histogram.Record(double.NaN);
        histogram.Record(3);

        var scraped = f.Scrape();

        Assert.Equal(4, scraped.Value("monotonic_total"));
        Assert.Equal(1, scraped.Value("latency_milliseconds_count"));
        Assert.Equal(3, scraped.Value("latency_milliseconds_sum"));
    }

    [Fact]
    public void Given_gauges_with_non_finite_values_when_scraped_then_they_use_the_format_spellings()
    {
        using var f = new CollectorFixture();
        var gauge = f.Meter.CreateGauge<double>("edge");

        gauge.Record(double.PositiveInfinity, new KeyValuePair<string, object?>("k", "pos"));
        gauge.Record(double.NegativeInfinity, new KeyValuePair<string, object?>("k", "neg"));
        gauge.Record(double.NaN, new KeyValuePair<string, object?>("k", "nan"));

        var text = f.Collector.Collect();
        var scraped = PrometheusTextParser.Parse(text);

        Assert.Contains("edge{k=\"pos\"} +Inf\n", text, StringComparison.Ordinal);
        Assert.Contains("edge{k=\"neg\"} -Inf\n", text, StringComparison.Ordinal);
        Assert.Contains("edge{k=\"nan\"} NaN\n", text, StringComparison.Ordinal);
        Assert.True(double.IsNaN(scraped.Value("edge", ("k", "nan"))));
    }

    [Fact]
    public void Given_meters_outside_the_prefix_when_scraped_then_they_are_not_exported()
    {
        using var f = new CollectorFixture();
        using var other = new Meter("Elsewhere." + Guid.NewGuid().ToString("N"));
        other.CreateCounter<int>("foreign").Add(1);
        f.Meter.CreateCounter<int>("own").Add(1);

        var scraped = f.Scrape();

        Assert.True(scraped.Has("own_total"));
        Assert.False(scraped.Has("foreign_total"));
    }

    [Fact]
    public void Given_instruments_that_map_to_one_name_when_scraped_then_the_output_stays_valid()
    {
        using var f = new CollectorFixture();
        using var second = new Meter(f.Prefix + ".Second");
        f.Meter.CreateCounter<int>("clash", "{x}").Add(1, new KeyValuePair<string, object?>("a", "1"));
        second.CreateCounter<int>("clash").Add(5, new KeyValuePair<string, object?>("a", "1"));
        second.CreateCounter<int>("clash.total").Add(7, new KeyValuePair<string, object?>("a", "2"));
        f.Meter.CreateGauge<int>("clash_total").Record(9);
        f.Meter.CreateHistogram<int>("lat").Record(1);
        f.Meter.CreateGauge<int>("lat_count").Record(2);

        var scraped = f.Scrape();

        Assert.Equal("counter", scraped.Families["clash_total"].Type);
        Assert.Equal(2, scraped.Families["clash_total"].Samples.Count);
        Assert.Equal(1, scraped.Value("lat_count"));
    }

    [Fact]
    public void Given_more_label_sets_than_the_cap_when_recorded_then_the_rest_fold_into_one_overflow_series()
    {
        using var f = new CollectorFixture(maxSeries: 3);
        var counter = f.Meter.CreateCounter<int>("paths");

        for (var i = 0; i < 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("path", "/users/" + i));
        }

        var family = f.Scrape().Families["paths_total"];

        Assert.Equal(4, family.Samples.Count);
        Assert.Equal(7, family.Samples.Single(s => s.Labels.ContainsKey("otel_metric_overflow")).Value);
        Assert.Equal(10, family.Samples.Sum(s => s.Value));
    }

    [Fact]
    public void Given_a_failing_observable_callback_when_scraped_then_the_other_metrics_are_still_served()
    {
        using var f = new CollectorFixture();
        f.Meter.CreateObservableGauge("broken", (Func<int>)(() => throw new InvalidOperationException("boom")));
        f.Meter.CreateObservableGauge("working", () => 1);

        Assert.Equal(1, f.Scrape().Value("working"));
    }

    [Fact]
    public void Given_a_disposed_meter_when_scraped_then_its_instruments_are_gone()
    {
        using var f = new CollectorFixture();
        using var shortLived = new Meter(f.Prefix + ".ShortLived");
        shortLived.CreateCounter<int>("temporary").Add(1);
        Assert.True(f.Scrape().Has("temporary_total"));

        shortLived.Dispose();

        Assert.False(f.Scrape().Has("temporary_total"));
    }

    [Fact]
    public void Given_nothing_recorded_when_scraped_then_the_output_is_empty_and_valid()
    {
        using var f = new CollectorFixture();
        f.Meter.CreateCounter<int>("idle");

        Assert.Equal("", f.Collector.Collect());
    }

    [Fact]
    public void Given_all_numeric_measurement_types_when_recorded_then_each_is_exported()
    {
        using var f = new CollectorFixture();
        f.Meter.CreateCounter<byte>("b").Add(1);
        f.Meter.CreateCounter<short>("s").Add(2);
        f.Meter.CreateCounter<int>("i").Add(3);
        f.Meter.CreateCounter<long>("l").Add(4);
        f.Meter.CreateCounter<float>("f").Add(5.5f);
        f.Meter.CreateCounter<double>("d").Add(6.25);
        f.Meter.CreateCounter<decimal>("m").Add(7.5m);

        var scraped = f.Scrape();

        Assert.Equal([1, 2, 3, 4, 5.5, 6.25, 7.5], new[] { "b", "s", "i", "l", "f", "d", "m" }.Select(n => scraped.Value(n + "_total")));
    }
}
