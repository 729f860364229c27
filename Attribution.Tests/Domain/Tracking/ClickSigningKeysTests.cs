using Attribution.Domain.Tracking;

namespace Attribution.Tests.Domain.Tracking;

/// <summary>Issue 19 "signed clicks": HMAC-SHA256 over impression_id + "\n" + redirect, lowercase hex, the first key signs.</summary>
public class ClickSigningKeysTests
{
    private const string Old = "test-click-key-second-0000";
    private const string New = "0123456789abcdef";

    [Fact]
    public void Given_a_key_when_a_click_is_signed_then_the_signature_is_the_lowercase_hex_hmac_sha256_of_impression_newline_redirect()
    {
        // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(b'0123456789abcdef', 'imp-1\nhttps://good.com/landing?x=1'.encode(), hashlib.sha256).hexdigest())"
        const string expected = "9970a2f90e841c1c70fa6716e303590dff80176255b55e5868ec3a229f4de964";

        Assert.Equal(expected, new ClickSigningKeys([New, Old]).Sign("imp-1", "https://good.com/landing?x=1"));
        Assert.Equal(expected, ClickSigningKeys.Compute(New, "imp-1", "https://good.com/landing?x=1"));
        // Non-ASCII text is signed as its UTF-8 bytes (same check, other key and text).
        Assert.Equal("b189569e0c100f56fc0738c9c986b95eee57ccff6a90b94c268830d843be9334", ClickSigningKeys.Compute(Old, "imp-ü", "https://bücher.example/"));
    }

    [Fact]
    public void Given_two_keys_when_a_url_signed_with_the_second_is_verified_then_it_passes_and_new_urls_are_signed_with_the_first()
    {
        var keys = new ClickSigningKeys([New, Old]);
        var byOld = ClickSigningKeys.Compute(Old, "imp-1", "https://good.com/");

        Assert.True(keys.Verify("imp-1", "https://good.com/", byOld));
        Assert.Equal(ClickSigningKeys.Compute(New, "imp-1", "https://good.com/"), keys.Sign("imp-1", "https://good.com/"));
        Assert.False(new ClickSigningKeys([New]).Verify("imp-1", "https://good.com/", byOld));
    }

    [Fact]
    public void Given_a_signature_in_uppercase_too_short_too_long_or_missing_when_it_is_verified_then_it_fails()
    {
        var keys = new ClickSigningKeys([New]);
        var sig = keys.Sign("imp-1", "https://good.com/");

        Assert.True(keys.Verify("imp-1", "https://good.com/", sig));
        Assert.False(keys.Verify("imp-1", "https://good.com/", sig.ToUpperInvariant()));
        Assert.False(keys.Verify("imp-1", "https://good.com/", sig[..^1]));
        Assert.False(keys.Verify("imp-1", "https://good.com/", sig + "0"));
        Assert.False(keys.Verify("imp-1", "https://good.com/", null));
        Assert.False(keys.Verify("imp-1", "https://good.com/", ""));
        Assert.False(keys.Verify(null, "https://good.com/", sig));
        Assert.False(keys.Verify("imp-1", null, sig));
    }

    [Fact]
    public void Given_no_keys_when_a_click_is_signed_or_verified_then_signing_throws_and_nothing_verifies()
    {
        Assert.False(ClickSigningKeys.None.CanSign);
        Assert.Throws<InvalidOperationException>(() => ClickSigningKeys.None.Sign("imp-1", "https://good.com/"));
        Assert.False(ClickSigningKeys.None.Verify("imp-1", "https://good.com/", ClickSigningKeys.Compute(New, "imp-1", "https://good.com/")));
    }

    [Fact]
    public void Given_a_key_shorter_than_the_minimum_when_the_keys_are_built_then_they_are_refused_without_the_key_in_the_message()
    {
        var e = Assert.Throws<ArgumentException>(() => new ClickSigningKeys([New, "short-secret"]));

        Assert.Contains("key 1", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("short-secret", e.Message, StringComparison.Ordinal);
    }
}
