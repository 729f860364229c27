namespace Attribution.Tests.Observability;

// The parser is the oracle for the exporter's output, so it is itself shown to reject each kind of violation.
public class PrometheusTextParserTests
{
    [Fact]
    public void A_well_formed_exposition_parses_with_unescaped_values()
    {
        const string text = """
            # HELP jobs_total Jobs done, \\ and \n escaped.
            # TYPE jobs_total counter
            jobs_total{queue="a\"b\\c\nd"} 3
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.1"} 1
            latency_seconds_bucket{le="+Inf"} 2
            latency_seconds_sum 0.35
            latency_seconds_count 2
            untyped_thing NaN 1700000000000
            """;

        var parsed = PrometheusTextParser.Parse(text + "\n");

        Assert.Equal("Jobs done, \\ and \n escaped.", parsed.Families["jobs_total"].Help);
        Assert.Equal(3, parsed.Value("jobs_total", ("queue", "a\"b\\c\nd")));
        Assert.Equal(2, parsed.Value("latency_seconds_count"));
        Assert.True(double.IsNaN(parsed.Value("untyped_thing")));
    }

    [Theory]
    [InlineData("a 1", "line feed")]
    [InlineData("a 1\n\nb 2\n", "blank line")]
    [InlineData("1a 1\n", "bad metric name")]
    [InlineData("a{1b=\"x\"} 1\n", "bad label name")]
    [InlineData("a{__name=\"x\"} 1\n", "reserved")]
    [InlineData("a{b=\"x\",b=\"y\"} 1\n", "twice")]
    [InlineData("a{b=\"x\\t\"} 1\n", "invalid escape")]
    [InlineData("a{b=x} 1\n", "not quoted")]
    [InlineData("a{b=\"x\"  } 1\n", "expected ','")]
    [InlineData("a one\n", "bad value")]
    [InlineData("a  1\n", "value")]
    [InlineData("a 1\na 2\n", "duplicate series")]
    [InlineData("a 1\nb 1\na{x=\"1\"} 1\n", "not one group")]
    [InlineData("a 1\n# TYPE a gauge\n", "after its samples")]
    [InlineData("# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE")]
    [InlineData("# HELP a x\n# HELP a y\na 1\n", "second HELP")]
    [InlineData("# TYPE a gauges\na 1\n", "unknown type")]
    [InlineData("# HELP a say \\\"hi\\\"\n", "invalid escape")]
    [InlineData("# TYPE c_total counter\nc_total -1\n", "negative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "cumulative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "do not increase")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n", "differs")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "exactly one _sum")]
    [InlineData("# TYPE h histogram\nh 2\n", "sample named")]
    public void A_violation_is_rejected_with_its_reason(string text, string reason)
    {
        var error = Assert.Throws<PrometheusFormatException>(() => PrometheusTextParser.Parse(text));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }
}
