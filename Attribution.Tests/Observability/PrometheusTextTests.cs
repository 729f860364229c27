using Attribution.Api.Observability;

namespace Attribution.Tests.Observability;

public class PrometheusTextTests
{
    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData("say \"hi\"", "say \\\"hi\\\"")]
    [InlineData("two\nlines", "two\\nlines")]
    [InlineData("\\\"\n", "\\\\\\\"\\n")]
    [InlineData("tab\tand\rcr", "tab\tand\rcr")]
    public void Label_values_escape_backslash_quote_and_line_feed_only(string raw, string escaped)
    {
        Assert.Equal(escaped, PrometheusText.EscapeLabelValue(raw));
        Assert.Equal(raw, PrometheusTextParser.UnescapeLabelValue(escaped));
    }

    [Theory]
    [InlineData("say \"hi\"", "say \"hi\"")]
    [InlineData("back\\slash\nnext", "back\\\\slash\\nnext")]
    public void Help_text_escapes_backslash_and_line_feed_but_not_quotes(string raw, string escaped)
    {
        Assert.Equal(escaped, PrometheusText.EscapeHelp(raw));
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0d, "0")]
    [InlineData(1d, "1")]
    [InlineData(-2.5d, "-2.5")]
    [InlineData(0.1d, "0.1")]
    [InlineData(1e-5d, "1E-05")]
    [InlineData(1.5e20d, "1.5E+20")]
    public void Values_are_formatted_so_that_prometheus_reads_them_back_exactly(double value, string expected)
    {
        var text = PrometheusText.FormatDouble(value);

        Assert.Equal(expected, text);
        var parsed = PrometheusTextParser.Parse($"v {text}\n").Value("v");
        Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(parsed));
    }
}
