using System.Text;
using Attribution.Domain.Security;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Domain.Security;

/// <summary>Signed ingest: a body signed with a key's secret at a time verifies within five minutes of it and under no
/// other body, secret, key or time.</summary>
public sealed class IngestSignatureTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private const string Secret = "s3cret";

    private static Func<string, string?> Keys(params (string Id, string Secret)[] keys) =>
        id => keys.FirstOrDefault(k => k.Id == id).Secret;

    private static SignatureVerdict Verify(string body, string header, DateTimeOffset? now = null, string keyId = "k1") =>
        IngestSignature.Verify(keyId, header, Encoding.UTF8.GetBytes(body), Keys(("k1", Secret)), now ?? Now);

    [Fact]
    public void Given_a_body_signed_now_when_it_is_verified_then_it_is_valid_and_the_header_is_t_and_lowercase_v1()
    {
        var header = IngestSignature.Header(Secret, Now, "{\"a\":1}"u8);
        Assert.Matches("^t=1796385600,v1=[0-9a-f]{64}$", header);
        Assert.Equal(SignatureVerdict.Valid, Verify("{\"a\":1}", header));
    }

    [Fact]
    public void Given_a_known_vector_when_signed_then_it_matches_hmac_sha256_of_t_dot_body()
    {
        // HMAC-SHA256("s3cret", "1796385600.hello") computed independently (python3 hmac).
        Assert.Equal("t=1796385600,v1=daef9064fd4f018d6da037577af904fe7edd0982d27fc7a33a0e3a81c3630bf5",
            IngestSignature.Header(Secret, Now, "hello"u8));
    }

    [Theory]
    [InlineData(-299, SignatureVerdict.Valid)]
    [InlineData(299, SignatureVerdict.Valid)]
    [InlineData(-301, SignatureVerdict.Expired)]
    [InlineData(301, SignatureVerdict.FromTheFuture)]
    public void Given_a_signature_made_seconds_away_from_the_server_clock_then_only_five_minutes_either_way_verify(int seconds, SignatureVerdict expected) =>
        Assert.Equal(expected, Verify("b", IngestSignature.Header(Secret, Now.AddSeconds(seconds), "b"u8)));

    [Theory]
    [InlineData(null, "t=1,v1=00", SignatureVerdict.MissingKeyId)]
    [InlineData("k1", null, SignatureVerdict.MissingSignature)]
    [InlineData("k1", "v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Malformed)]
    [InlineData("k1", "t=1796385600", SignatureVerdict.Malformed)]
    [InlineData("k1", "t=1796385600,v1=ABCDEF0000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Malformed)]
    [InlineData("k1", "t=-5,v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Malformed)]
    [InlineData("k1", "t=999999999999,v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Malformed)]
    [InlineData("k1", "t=1796385600,t=1796385600,v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Malformed)]
    [InlineData("nobody", "t=1796385600,v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.UnknownKey)]
    [InlineData("k1", "t=1796385600,v1=0000000000000000000000000000000000000000000000000000000000000000", SignatureVerdict.Mismatch)]
    public void Given_a_missing_malformed_unknown_or_wrong_signature_then_the_verdict_says_which(string? keyId, string? header, SignatureVerdict expected) =>
        Assert.Equal(expected, IngestSignature.Verify(keyId, header, "b"u8, Keys(("k1", Secret)), Now));

    [Fact]
    public void Given_two_v1_values_during_a_rotation_then_either_matching_one_is_enough_and_unknown_schemes_are_ignored()
    {
        var current = IngestSignature.Header(Secret, Now, "b"u8);
        var old = IngestSignature.Header("old-secret", Now, "b"u8);
        Assert.Equal(SignatureVerdict.Valid, Verify("b", $"{old},v0=legacy,{current[(current.IndexOf(',', StringComparison.Ordinal) + 1)..]}"));
        Assert.Equal(SignatureVerdict.Mismatch, Verify("b", old));
    }

    [Fact]
    public void A_signature_verifies_for_its_own_body_and_secret_and_never_after_any_one_byte_of_the_body_changes()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>().Filter(b => b.Length > 0), ArbMap.Default.ArbFor<int>(), ArbMap.Default.ArbFor<byte>(), (body, at, flip) =>
        {
            var header = IngestSignature.Header(Secret, Now, body);
            Assert.Equal(SignatureVerdict.Valid, IngestSignature.Verify("k1", header, body, Keys(("k1", Secret)), Now));
            var changed = (byte[])body.Clone();
            var i = (int)((uint)at % (uint)changed.Length);
            changed[i] ^= (byte)(flip == 0 ? 1 : flip);
            Assert.Equal(SignatureVerdict.Mismatch, IngestSignature.Verify("k1", header, changed, Keys(("k1", Secret)), Now));
        }).Check(Runs);
    }

    [Fact]
    public void A_signature_made_with_another_secret_never_verifies()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<NonEmptyString>(), ArbMap.Default.ArbFor<byte[]>(), (other, body) =>
        {
            if (other.Get == Secret) return;
            var header = IngestSignature.Header(other.Get, Now, body);
            Assert.Equal(SignatureVerdict.Mismatch, IngestSignature.Verify("k1", header, body, Keys(("k1", Secret)), Now));
        }).Check(Runs);
    }
}
