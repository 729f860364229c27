using Attribution.Domain.Tracking;

namespace Attribution.Tests.Domain.Tracking;

/// <summary>Issue 19 "only clean absolute http(s) URLs qualify": the known open-redirect tricks, one each.</summary>
public class RedirectTargetTests
{
    [Theory]
    [InlineData("//evil.com/", "does not start with http:// or https://")]
    [InlineData("https:evil.com", "does not start with http:// or https://")]
    [InlineData("https:/evil.com", "does not start with http:// or https://")]
    [InlineData("https:///evil.com", "names no host")]
    [InlineData("javascript:alert(1)", "does not start with http:// or https://")]
    [InlineData("JaVaScRiPt:alert(document.domain)//https://good.com", "does not start with http:// or https://")]
    [InlineData("data:text/html,<script>alert(1)</script>", "does not start with http:// or https://")]
    [InlineData("ftp://good.com/file", "does not start with http:// or https://")]
    [InlineData("/relative/path", "does not start with http:// or https://")]
    [InlineData("good.com", "does not start with http:// or https://")]
    public void Given_a_redirect_without_an_http_or_https_scheme_and_authority_when_it_is_read_then_it_is_refused(string raw, string why)
    {
        Assert.False(RedirectTarget.TryParse(raw, out var target, out var error));
        Assert.Null(target);
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://good.com@evil.com/")]
    [InlineData("https://user:pass@good.com/")]
    [InlineData("https://good.com:443@evil.com/")]
    [InlineData("https://@good.com/")]
    public void Given_userinfo_before_the_host_when_the_redirect_is_read_then_it_is_refused(string raw)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains("userinfo", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://evil.com\\@good.com/")]
    [InlineData("https:\\\\evil.com")]
    [InlineData("https://good.com\\.evil.com/")]
    [InlineData("https://good.com/\\evil.com")]
    public void Given_a_backslash_anywhere_when_the_redirect_is_read_then_it_is_refused_because_browsers_read_it_as_a_slash(string raw)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains("backslash", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://good.com/\r\nSet-Cookie: a=b")]
    [InlineData("https://good.com\r\n.evil.com/")]
    [InlineData("https://good.com/\n")]
    [InlineData("https://go\tod.com/")]
    [InlineData(" https://good.com/")]
    [InlineData("https://good.com/ x")]
    [InlineData("https://good.com/\u0000")]
    [InlineData("https://good.com/\u0085")]
    public void Given_a_control_character_or_a_space_when_the_redirect_is_read_then_it_is_refused(string raw)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains("control character or a space", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://%65vil.com/", "percent-encoded")]
    [InlineData("https://good%2Ecom/", "percent-encoded")]
    [InlineData("https://good.com./", "ends with a dot")]
    [InlineData("https://good.com../", "ends with a dot")]
    [InlineData("https://good..com/", "empty label")]
    [InlineData("https://.good.com/", "empty label")]
    [InlineData("https://[::1]/", "IP literal")]
    [InlineData("https://127.0.0.1/", "IP address")]
    [InlineData("https://2130706433/", "IP address")]
    [InlineData("https://0x7f.0.0.1/", "IP address")]
    [InlineData("https://-good.com/", "starts or ends with '-'")]
    [InlineData("https://good_com.example/", "other than a letter, a digit or '-'")]
    [InlineData("https://ab--cd.com/", "third and fourth positions")]
    [InlineData("https://ｇｏｏｄ.com/", "U+FF47")]
    [InlineData("https://good\u3002com/", "U+3002")]
    [InlineData("https://good.com\u2028/", "U+2028")]
    [InlineData("https://xn--zz.com/", "not valid punycode")]
    [InlineData("https://xn--a-ecp.example/", "U+2488")]
    public void Given_a_host_that_is_not_a_clean_dns_name_when_the_redirect_is_read_then_it_is_refused(string raw, string why)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://good.com:0/")]
    [InlineData("https://good.com:65536/")]
    [InlineData("https://good.com:/")]
    [InlineData("https://good.com:+443/")]
    [InlineData("https://good.com:0443/")]
    [InlineData("https://good.com:443x/")]
    [InlineData("https://good.com:443:80/")]
    public void Given_a_port_that_is_not_one_plain_number_from_1_to_65535_when_the_redirect_is_read_then_it_is_refused(string raw)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains("port", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://good.com/<script>", "'<'")]
    [InlineData("https://good.com/%zz", "not a %XX escape")]
    [InlineData("https://good.com/%4", "not a %XX escape")]
    [InlineData("https://good.com/über", "non-ASCII")]
    [InlineData("https://good.com/#a#b", "second '#'")]
    [InlineData("https://good.com/a\"b", "'\"'")]
    public void Given_a_path_or_query_outside_rfc_3986_when_the_redirect_is_read_then_it_is_refused(string raw, string why)
    {
        Assert.False(RedirectTarget.TryParse(raw, out _, out var error));
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_no_redirect_or_one_too_long_when_it_is_read_then_it_is_refused()
    {
        Assert.False(RedirectTarget.TryParse(null, out _, out var missing));
        Assert.False(RedirectTarget.TryParse("", out _, out _));
        Assert.False(RedirectTarget.TryParse("https://good.com/" + new string('a', RedirectTarget.MaxLength), out _, out var tooLong));
        Assert.Equal("it is missing", missing);
        Assert.Contains("longer than", tooLong, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://good.com", "https", "good.com", null, "https://good.com")]
    [InlineData("https://GOOD.Com/Path?Q=1#Frag", "https", "good.com", null, "https://good.com/Path?Q=1#Frag")]
    [InlineData("HTTPS://good.com/", "https", "good.com", null, "https://good.com/")]
    [InlineData("http://good.com:8080/x", "http", "good.com", 8080, "http://good.com:8080/x")]
    [InlineData("https://good.com?next=https://evil.com", "https", "good.com", null, "https://good.com?next=https://evil.com")]
    [InlineData("https://good.com/@evil.com", "https", "good.com", null, "https://good.com/@evil.com")]
    [InlineData("https://good.com/%2F%2Fevil.com", "https", "good.com", null, "https://good.com/%2F%2Fevil.com")]
    [InlineData("https://bücher.example/x", "https", "xn--bcher-kva.example", null, "https://xn--bcher-kva.example/x")]
    [InlineData("https://BÜCHER.example/", "https", "xn--bcher-kva.example", null, "https://xn--bcher-kva.example/")]
    [InlineData("https://XN--BCHER-KVA.example/", "https", "xn--bcher-kva.example", null, "https://xn--bcher-kva.example/")]
    [InlineData("https://a-b.c0.example:1/~x-y_z.(1)!$&'*+,;=:@/?a=b", "https", "a-b.c0.example", 1, "https://a-b.c0.example:1/~x-y_z.(1)!$&'*+,;=:@/?a=b")]
    public void Given_a_clean_http_or_https_url_when_it_is_read_then_its_host_is_compared_lowercase_in_ascii_and_its_url_names_that_host(
        string raw, string scheme, string host, int? port, string url)
    {
        Assert.True(RedirectTarget.TryParse(raw, out var target, out var error), error);
        Assert.Equal((scheme, host, port, url), (target.Scheme, target.Host, target.Port, target.Url));
    }

    [Fact]
    public void Given_a_cyrillic_look_alike_host_when_it_is_read_then_its_ascii_form_is_its_own_punycode_not_the_latin_host()
    {
        // "раураl.com": Cyrillic р, а, у, а, р, а and a Latin l.
        Assert.True(RedirectTarget.TryParse("https://\u0440\u0430\u0443\u0440\u0430l.com/", out var target, out _));
        Assert.Equal("xn--l-7sba6dbr.com", target.Host);
    }
}
