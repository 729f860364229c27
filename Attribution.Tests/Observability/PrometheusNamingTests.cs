using Attribution.Api.Observability;

namespace Attribution.Tests.Observability;

public class PrometheusNamingTests
{
    [Theory]
    [InlineData("attribution.ingest.duration", "s", PrometheusMetricType.Histogram, "attribution_ingest_duration_seconds")]
    [InlineData("attribution.ingest.duration", "ms", PrometheusMetricType.Histogram, "attribution_ingest_duration_milliseconds")]
    [InlineData("request.duration.seconds", "s", PrometheusMetricType.Histogram, "request_duration_seconds")]
    [InlineData("conversions.attributed", "{conversion}", PrometheusMetricType.Counter, "conversions_attributed_total")]
    [InlineData("conversions.attributed.total", null, PrometheusMetricType.Counter, "conversions_attributed_total")]
    [InlineData("consumer.lag", "{message}", PrometheusMetricType.Gauge, "consumer_lag")]
    [InlineData("payload.size", "By", PrometheusMetricType.Histogram, "payload_size_bytes")]
    [InlineData("throughput", "By/s", PrometheusMetricType.Gauge, "throughput_bytes_per_second")]
    [InlineData("events.rate", "{event}/s", PrometheusMetricType.Gauge, "events_rate_per_second")]
    [InlineData("cache.hit", "1", PrometheusMetricType.Gauge, "cache_hit_ratio")]
    [InlineData("retries", "1", PrometheusMetricType.Counter, "retries_total")]
    [InlineData("cpu.time", "s", PrometheusMetricType.Counter, "cpu_time_seconds_total")]
    [InlineData("2xx-responses", null, PrometheusMetricType.Gauge, "_2xx_responses")]
    [InlineData("a..b/c:d", null, PrometheusMetricType.Gauge, "a_b_c_d")]
    [InlineData("temperature", "Cel", PrometheusMetricType.Gauge, "temperature_celsius")]
    [InlineData("odd", "furlongs", PrometheusMetricType.Gauge, "odd_furlongs")]
    public void Given_an_instrument_name_and_unit_when_named_then_the_family_name_follows_the_conventions(
        string instrument, string? unit, PrometheusMetricType type, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.MetricName(instrument, unit, type));
    }

    [Theory]
    [InlineData("http.route", "http_route")]
    [InlineData("__internal", "_internal")]
    [InlineData("5xx", "key_5xx")]
    [InlineData("ünïcode key", "_n_code_key")]
    [InlineData("status", "status")]
    public void Given_a_tag_key_when_named_then_the_label_name_is_legal_and_not_reserved(string key, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.SanitizeLabelName(key));
    }
}
