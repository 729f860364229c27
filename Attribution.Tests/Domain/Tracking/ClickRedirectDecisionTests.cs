using Attribution.Domain.Tracking;

namespace Attribution.Tests.Domain.Tracking;

/// <summary>Issue 19 "no open redirect": a clean redirect is followed when signed, or when its campaign lists its host.</summary>
public class ClickRedirectDecisionTests
{
    private const string Key = "0123456789abcdef";
    private const string Retired = "retired-key-000000";
    private static readonly ClickSigningKeys Keys = new([Key]);
    private static readonly LandingDomains Shop = LandingDomains.TryParse(["shop.example", "*.brand.example"], out var d, out _) ? d : throw new InvalidOperationException();

    private static LandingDomains? Lookup(string campaign) => campaign == "camp-shop" ? Shop : null;

    private static ClickRedirectDecision Decide(string? impression, string? redirect, string? sig, string? campaign) =>
        ClickRedirect.Decide(new ClickRequest(impression, redirect, sig, campaign), Keys, Lookup);

    [Fact]
    public void Given_a_valid_signature_when_the_click_is_decided_then_it_redirects_anywhere_clean_without_a_campaign()
    {
        var sig = ClickSigningKeys.Compute(Key, "imp-1", "https://Elsewhere.example/p?q=1");

        var allowed = Assert.IsType<ClickRedirectDecision.Allowed>(Decide("imp-1", "https://Elsewhere.example/p?q=1", sig, null));

        Assert.True(allowed.Signed);
        Assert.Equal("https://elsewhere.example/p?q=1", allowed.Target.Url);
    }

    [Fact]
    public void Given_no_signature_and_no_campaign_when_the_click_is_decided_then_it_is_refused_saying_both()
    {
        var refused = Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", "https://evil.example/phish", null, null));

        Assert.Equal("The redirect is not allowed: the URL carries no 'sig', and no 'campaign_id' to check the host against.", refused.Detail);
    }

    [Fact]
    public void Given_a_signature_for_another_impression_or_redirect_when_the_click_is_decided_then_it_is_refused()
    {
        var sig = ClickSigningKeys.Compute(Key, "imp-1", "https://good.example/");

        Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-2", "https://good.example/", sig, null));
        var refused = Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", "https://evil.example/", sig, null));
        Assert.Contains("'sig' does not match", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_campaign_that_lists_the_host_when_an_unsigned_click_is_decided_then_it_redirects()
    {
        var allowed = Assert.IsType<ClickRedirectDecision.Allowed>(Decide("imp-1", "https://SHOP.example/cart", null, "camp-shop"));
        var sub = Assert.IsType<ClickRedirectDecision.Allowed>(Decide("imp-1", "https://www.brand.example/", null, "camp-shop"));

        Assert.False(allowed.Signed);
        Assert.Equal("https://shop.example/cart", allowed.Target.Url);
        Assert.Equal("www.brand.example", sub.Target.Host);
    }

    [Fact]
    public void Given_a_campaign_that_does_not_list_the_host_or_no_such_campaign_when_the_click_is_decided_then_it_is_refused_without_naming_the_list()
    {
        var other = Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", "https://shop.example.evil.com/", null, "camp-shop"));
        var apex = Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", "https://brand.example/", null, "camp-shop"));
        Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", "https://shop.example/", null, "camp-unknown"));

        Assert.Equal("The redirect is not allowed: the URL carries no 'sig', and host 'shop.example.evil.com' is not among the landing domains of campaign 'camp-shop'.", other.Detail);
        Assert.DoesNotContain("*.brand.example", apex.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("shop.example", apex.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_signature_by_a_retired_key_and_a_campaign_that_lists_the_host_when_the_click_is_decided_then_the_landing_domain_still_allows_it()
    {
        var sig = ClickSigningKeys.Compute(Retired, "imp-1", "https://shop.example/");

        var allowed = Assert.IsType<ClickRedirectDecision.Allowed>(Decide("imp-1", "https://shop.example/", sig, "camp-shop"));

        Assert.False(allowed.Signed);
    }

    [Theory]
    [InlineData("https://good.example/\r\nLocation: https://evil.example/")]
    [InlineData("//evil.example/")]
    [InlineData("https://good.example@evil.example/")]
    [InlineData("javascript:alert(1)")]
    public void Given_a_correctly_signed_redirect_that_is_not_a_clean_url_when_the_click_is_decided_then_it_is_refused_all_the_same(string redirect)
    {
        var sig = ClickSigningKeys.Compute(Key, "imp-1", redirect);

        var refused = Assert.IsType<ClickRedirectDecision.Refused>(Decide("imp-1", redirect, sig, null));

        Assert.StartsWith("'redirect' must be a clean absolute http or https URL: ", refused.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Given_a_newline_moved_between_impression_and_redirect_when_the_click_is_decided_then_the_signature_cannot_be_reused()
    {
        // impression "a\nhttps://x.example/" + redirect "" and impression "a" + redirect "https://x.example/" would be
        // the same signed text; a redirect never holds a newline and never is empty, so only one of them is a click.
        var sig = ClickSigningKeys.Compute(Key, "a", "https://x.example/");

        Assert.IsType<ClickRedirectDecision.Allowed>(Decide("a", "https://x.example/", sig, null));
        Assert.IsType<ClickRedirectDecision.Refused>(Decide("a\nhttps://x.example/", "", sig, null));
    }
}
