using Attribution.Domain.Tracking;

namespace Attribution.Tests.Domain.Tracking;

/// <summary>Issue 19 "landing domains": which hosts a campaign's list allows, and which lists are valid.</summary>
public class LandingDomainsTests
{
    private static LandingDomains List(params string[] entries)
    {
        Assert.True(LandingDomains.TryParse(entries, out var domains, out var error), error);
        return domains;
    }

    private static string Host(string url)
    {
        Assert.True(RedirectTarget.TryParse(url, out var target, out var error), error);
        return target.Host;
    }

    [Theory]
    [InlineData("https://good.com/", true)]
    [InlineData("https://GoOd.CoM/", true)]
    [InlineData("https://good.com:8443/", true)]
    [InlineData("https://good.com.evil.com/", false)]
    [InlineData("https://evilgood.com/", false)]
    [InlineData("https://sub.good.com/", false)]
    [InlineData("https://good.co/", false)]
    [InlineData("https://good.comx/", false)]
    [InlineData("https://evil.com/good.com", false)]
    [InlineData("https://evil.com/?good.com", false)]
    public void Given_an_exact_host_when_a_redirect_host_is_checked_then_only_that_host_matches_in_any_case_and_on_any_port(string url, bool allowed)
    {
        Assert.Equal(allowed, List("good.com").Allows(Host(url)));
    }

    [Theory]
    [InlineData("https://a.example.com/", true)]
    [InlineData("https://a.b.example.com/", true)]
    [InlineData("https://example.com/", false)]
    [InlineData("https://badexample.com/", false)]
    [InlineData("https://example.com.evil.com/", false)]
    [InlineData("https://a.example.co/", false)]
    public void Given_a_wildcard_when_a_redirect_host_is_checked_then_subdomains_at_any_depth_match_but_not_the_domain_itself(string url, bool allowed)
    {
        Assert.Equal(allowed, List("*.example.com").Allows(Host(url)));
    }

    [Fact]
    public void Given_a_wildcard_and_the_domain_itself_when_both_are_listed_then_both_match()
    {
        var domains = List("*.example.com", "example.com");

        Assert.True(domains.Allows("example.com"));
        Assert.True(domains.Allows("www.example.com"));
    }

    [Fact]
    public void Given_a_latin_host_when_a_cyrillic_look_alike_is_checked_then_it_does_not_match()
    {
        var domains = List("paypal.com");

        Assert.False(domains.Allows(Host("https://\u0440\u0430\u0443\u0440\u0430l.com/")));
        Assert.False(domains.Allows(Host("https://p\u0430ypal.com/")));
        Assert.True(domains.Allows(Host("https://PayPal.com/")));
    }

    [Fact]
    public void Given_an_idn_host_listed_in_unicode_or_punycode_when_either_spelling_is_checked_then_it_matches()
    {
        var unicode = List("Bücher.example");
        var punycode = List("xn--bcher-kva.example");

        Assert.Equal(["xn--bcher-kva.example"], unicode.Entries);
        Assert.Equal(unicode, punycode);
        Assert.True(unicode.Allows(Host("https://bücher.example/")));
        Assert.True(unicode.Allows(Host("https://xn--bcher-kva.example/")));
        Assert.False(unicode.Allows(Host("https://bucher.example/")));
        Assert.True(List("*.bücher.example").Allows(Host("https://shop.BÜCHER.example/")));
    }

    [Fact]
    public void Given_hosts_in_any_case_and_order_with_repeats_when_the_list_is_read_then_it_is_kept_lowercase_sorted_and_distinct()
    {
        var domains = List("Shop.Example", "*.B.example", "shop.example", "a.example");

        Assert.Equal(["*.b.example", "a.example", "shop.example"], domains.Entries);
        Assert.Equal(domains, List("a.example", "*.b.example", "shop.example"));
        Assert.Equal(domains.GetHashCode(), List("a.example", "*.b.example", "shop.example").GetHashCode());
        Assert.NotEqual(domains, List("a.example"));
        Assert.Same(LandingDomains.Empty, List());
    }

    [Theory]
    [InlineData("*", "'*' may only stand alone")]
    [InlineData("*.com", "at least two labels")]
    [InlineData("a.*.com", "'*' may only stand alone")]
    [InlineData("*.*.example.com", "'*' may only stand alone")]
    [InlineData("*example.com", "'*' may only stand alone")]
    [InlineData("good.com.", "ends with a dot")]
    [InlineData("https://good.com", "give the host alone, without scheme, port, path or userinfo")]
    [InlineData("good.com/path", "not a host name")]
    [InlineData("good.com:443", "not a host name")]
    [InlineData("user@good.com", "not a host name")]
    [InlineData("10.0.0.1", "IP address")]
    [InlineData("", "is empty")]
    [InlineData(" good.com", "not a host name")]
    public void Given_an_entry_that_is_not_a_host_or_a_wildcard_of_one_when_the_list_is_read_then_it_is_refused_with_its_index(string entry, string why)
    {
        Assert.False(LandingDomains.TryParse(["ok.example", entry], out var domains, out var error));
        Assert.Null(domains);
        Assert.StartsWith("landing_domains[1] ", error, StringComparison.Ordinal);
        Assert.Contains(why, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_null_entry_a_null_list_or_too_many_hosts_when_the_list_is_read_then_it_is_refused()
    {
        Assert.False(LandingDomains.TryParse(["ok.example", null], out _, out var nullEntry));
        Assert.False(LandingDomains.TryParse(null, out _, out _));
        Assert.False(LandingDomains.TryParse(Enumerable.Range(0, LandingDomains.MaxEntries + 1).Select(i => $"h{i}.example"), out _, out var tooMany));
        Assert.True(LandingDomains.TryParse(Enumerable.Range(0, LandingDomains.MaxEntries).Select(i => $"h{i}.example"), out _, out _));
        Assert.Equal("landing_domains[1] is empty", nullEntry);
        Assert.Contains($"at most {LandingDomains.MaxEntries}", tooMany, StringComparison.Ordinal);
    }
}
