using Attribution.Domain.Tracking;
using Attribution.Tests.Fixtures;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Tracking;

/// <summary>Issue 19 over generated input: signatures bind impression and redirect under every key of the list, and
/// no generated URL reaches a host outside the list, by our reading or by .NET's own URL parser.</summary>
public class ClickRedirectPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);

    private static readonly Gen<string> Key =
        Gen.Choose(16, 40).SelectMany(n => Gen.ArrayOf(Gen.Elements("abcdefXYZ0129-_!ü€".ToCharArray()), n)).Select(c => new string(c));

    // Text with the characters that matter here: ASCII, multi-byte UTF-8, the separator itself.
    private static readonly Gen<string> Text =
        Gen.Choose(0, 30).SelectMany(n => Gen.ArrayOf(Gen.Elements("ab/:?=&%.\n xyzé€😀".EnumerateRunes().Select(r => r.ToString()).ToArray()), n))
            .Select(parts => string.Concat(parts));

    /// <summary>The string with the character at <paramref name="index"/> (mod length) replaced by another one, or one added when empty.</summary>
    private static string ChangeOne(string s, int index, char replacement)
    {
        if (s.Length == 0) return replacement.ToString();
        var i = index % s.Length;
        var c = s[i] == replacement ? (char)(replacement + 1) : replacement;
        return string.Concat(s.AsSpan(0, i), c.ToString(), s.AsSpan(i + 1));
    }

    [Fact]
    public void A_signature_by_any_key_of_the_list_verifies_and_fails_after_any_one_character_change_of_impression_redirect_or_signature()
    {
        var gen =
            from keys in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Key, n))
            from signer in Gen.Choose(0, 3)
            from impression in Text
            from redirect in Text
            from index in Gen.Choose(0, 1000)
            from replacement in Gen.Elements('a', '0', '\n', 'é', '/')
            select (keys, signer, impression, redirect, index, replacement);

        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), c =>
        {
            var list = new ClickSigningKeys(c.keys);
            var sig = ClickSigningKeys.Compute(c.keys[c.signer % c.keys.Length], c.impression, c.redirect);

            Assert.True(list.Verify(c.impression, c.redirect, sig));
            Assert.False(list.Verify(ChangeOne(c.impression, c.index, c.replacement), c.redirect, sig));
            Assert.False(list.Verify(c.impression, ChangeOne(c.redirect, c.index, c.replacement), sig));
            Assert.False(list.Verify(c.impression, c.redirect, ChangeOne(sig, c.index, c.replacement is 'a' ? 'b' : '0')));
            Assert.Equal(ClickSigningKeys.Compute(c.keys[0], c.impression, c.redirect), list.Sign(c.impression, c.redirect));
        }));
    }

    [Fact]
    public void A_signature_by_a_key_not_in_the_list_never_verifies()
    {
        var gen = from keys in Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Key, n)) from other in Key from impression in Text from redirect in Text
            select (keys, other, impression, redirect);

        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), c =>
        {
            if (c.keys.Contains(c.other, StringComparer.Ordinal)) return;
            Assert.False(new ClickSigningKeys(c.keys).Verify(c.impression, c.redirect, ClickSigningKeys.Compute(c.other, c.impression, c.redirect)));
        }));
    }

    // URLs glued together from the pieces of the known tricks: a scheme (mostly a valid one), an authority of host
    // pieces (so that most are near misses of the listed hosts), then a tail.
    private static readonly string[] Schemes = ["https://", "https://", "http://", "HTTPS://", "//", "https:", "https:/", "https:\\", "javascript:", ""];

    private static readonly string[] HostPieces =
    [
        "good.com", "GOOD.COM", "evil.com", "shop.example", "a.shop.example", "shop.example.evil.com", "xn--bcher-kva.example", "bücher.example",
        "g\u043eod.com", "ｇood.com", "x", "x.", ".", "..", "-", "@", ":", ":443", ":8080", "%2e", "%40", "\\", "\r\n", "\t", " ", "[::1]", "127.0.0.1",
        "user:pass@", "\u3002", "\u00a0",
    ];

    private static readonly string[] Tails = ["", "", "/", "/path", "?q=1", "#f", "/@evil.com", "?next=//evil.com", "\\evil.com", "\r\nX: y", "/ü", "%zz", "@evil.com"];

    private static readonly Gen<string> Urls =
        from scheme in Gen.Elements(Schemes)
        from authority in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Gen.Elements(HostPieces), n))
        from tail in Gen.Elements(Tails)
        select scheme + string.Concat(authority) + tail;

    private static readonly LandingDomains Listed =
        LandingDomains.TryParse(["good.com", "*.shop.example", "bücher.example"], out var d, out _) ? d : throw new InvalidOperationException();

    private static bool IsListed(string host) =>
        host is "good.com" or "xn--bcher-kva.example" || (host.EndsWith(".shop.example", StringComparison.Ordinal) && host.Length > ".shop.example".Length);

    [Fact]
    public void No_generated_url_whose_host_is_outside_the_list_is_allowed_and_an_allowed_one_goes_where_dotnet_also_reads_its_host()
    {
        var allowedSeen = 0;

        Seeded.Check(Config.QuickThrowOnFailure.WithMaxTest(5_000), Prop.ForAll(Urls.ToArbitrary(), raw =>
        {
            var decision = ClickRedirect.Decide(new ClickRequest("imp-1", raw, null, "camp"), ClickSigningKeys.None, _ => Listed);
            if (decision is not ClickRedirectDecision.Allowed allowed) return;
            allowedSeen++;
            var target = allowed.Target;
            Assert.True(IsListed(target.Host), $"{raw} → {target.Url}");
            // An independent reading of what we send: .NET's URL parser finds the same host, no userinfo, the same scheme.
            Assert.True(Uri.TryCreate(target.Url, UriKind.Absolute, out var uri), target.Url);
            Assert.Equal(target.Host, uri.IdnHost);
            Assert.Equal("", uri.UserInfo);
            Assert.Equal(target.Scheme, uri.Scheme);
            Assert.DoesNotContain(target.Url, c => c is '\r' or '\n' or '\\' or ' ' or > '\u007e');
        }));

        // The generator reaches the allowed side often, or the property above would hold vacuously.
        Assert.True(allowedSeen > 20, $"only {allowedSeen} generated URLs were allowed");
    }

    [Fact]
    public void A_host_is_allowed_exactly_when_it_is_a_listed_host_or_a_proper_subdomain_of_a_wildcard()
    {
        var label = Gen.Elements("a", "b", "ab", "example", "com", "xn--bcher-kva");
        var host = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(label, n)).Select(l => string.Join('.', l));
        var entry = from h in host from wildcard in Gen.Elements(false, true) select wildcard && h.Contains('.', StringComparison.Ordinal) ? "*." + h : h;
        var gen = from entries in Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(entry, n)) from candidate in host select (entries, candidate);

        Seeded.Check(Runs, Prop.ForAll(gen.ToArbitrary(), c =>
        {
            Assert.True(LandingDomains.TryParse(c.entries, out var domains, out var error), error);
            var expected = c.entries.Any(e => e.StartsWith("*.", StringComparison.Ordinal)
                ? c.candidate.EndsWith(e[1..], StringComparison.Ordinal)
                : e == c.candidate);
            Assert.Equal(expected, domains.Allows(c.candidate));
        }));
    }
}
