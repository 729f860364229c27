using Attribution.Projections.Ingest;
using Microsoft.Extensions.Options;

namespace Attribution.Tests.Ingest;

/// <summary>The keys in memory: a read of PostgreSQL that began before this instance's own change never undoes it.</summary>
public sealed class IngestKeyRingTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    private static IngestKeyRing Ring()
    {
        var options = new IngestOptions();
        options.Keys["configured"] = "configured-secret";
        return new IngestKeyRing(Options.Create(options));
    }

    [Fact]
    public void A_read_that_began_before_a_revocation_does_not_bring_the_revoked_key_back()
    {
        var ring = Ring();
        var key = new StoredIngestKey("ik_1", "s1", T0, null);
        ring.Add(key);
        var before = ring.LocalChanges;
        ring.Remove("ik_1");

        Assert.False(ring.Replace([key], before), "the read predates the revocation");
        Assert.Null(ring.SecretOf("ik_1"));
        Assert.True(ring.Replace([], ring.LocalChanges));
        Assert.Equal("configured-secret", ring.SecretOf("configured"));
    }

    [Fact]
    public void A_read_that_began_before_a_new_key_does_not_drop_it_and_a_later_read_replaces_everything()
    {
        var ring = Ring();
        var before = ring.LocalChanges;
        ring.Add(new StoredIngestKey("ik_new", "s2", T0, null));

        Assert.False(ring.Replace([], before));
        Assert.Equal("s2", ring.SecretOf("ik_new"));
        Assert.True(ring.Replace([new StoredIngestKey("ik_other", "s3", T0, null)], ring.LocalChanges));
        Assert.Null(ring.SecretOf("ik_new"));
        Assert.Equal("s3", ring.SecretOf("ik_other"));
    }

    [Fact]
    public void Uses_are_handed_over_once_and_listed_without_secrets()
    {
        var ring = Ring();
        ring.Add(new StoredIngestKey("ik_1", "s1", T0, null));
        ring.Used("ik_1", T0.AddMinutes(1));
        ring.Used("configured", T0.AddMinutes(2));

        Assert.Equal(["ik_1"], ring.TakeUses().Keys);
        Assert.Empty(ring.TakeUses());
        var listed = ring.List();
        Assert.Equal(T0.AddMinutes(1), listed.Single(k => k.KeyId == "ik_1").LastUsedAt);
        Assert.Equal(IngestKeyRing.FromConfiguration, listed.Single(k => k.KeyId == "configured").Source);
    }
}
