namespace Attribution.Domain.Tracking;

/// <summary>What a click URL asks for: the decoded values of its impression_id, redirect, sig and campaign_id.</summary>
public sealed record ClickRequest(string? ImpressionId, string? Redirect, string? Sig, string? CampaignId);

/// <summary>Whether /click may redirect, and where to.</summary>
public abstract record ClickRedirectDecision
{
    private ClickRedirectDecision()
    {
    }

    /// <summary>Redirect to <paramref name="Target"/>'s URL; <paramref name="Signed"/> says which rule allowed it.</summary>
    public sealed record Allowed(RedirectTarget Target, bool Signed) : ClickRedirectDecision;

    /// <summary>No redirect and no click: <paramref name="Detail"/> says why, without naming any allowed host.</summary>
    public sealed record Refused(string Detail) : ClickRedirectDecision;
}

/// <summary>The click redirect's rule: no open redirect (issue 19).</summary>
public static class ClickRedirect
{
    /// <summary>
    /// Issue 19 "no open redirect": a clean http(s) redirect is followed when its sig verifies under a configured key,
    /// or when campaign_id names a campaign whose landing domains (in force now, from <paramref name="landingDomainsOf"/>)
    /// allow its host. Either suffices: a link signed with a retired key still works for an allow-listed host.
    /// </summary>
    public static ClickRedirectDecision Decide(ClickRequest click, ClickSigningKeys keys, Func<string, LandingDomains?> landingDomainsOf)
    {
        ArgumentNullException.ThrowIfNull(click);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(landingDomainsOf);
        if (!RedirectTarget.TryParse(click.Redirect, out var target, out var shape))
            return new ClickRedirectDecision.Refused($"'redirect' must be a clean absolute http or https URL: {shape}");

        var signed = !string.IsNullOrEmpty(click.Sig);
        if (signed && keys.Verify(click.ImpressionId, click.Redirect, click.Sig)) return new ClickRedirectDecision.Allowed(target, Signed: true);

        var campaign = string.IsNullOrEmpty(click.CampaignId) ? null : click.CampaignId;
        if (campaign is not null && landingDomainsOf(campaign) is { } domains && domains.Allows(target.Host))
            return new ClickRedirectDecision.Allowed(target, Signed: false);

        var why = signed
            ? "'sig' does not match impression_id and redirect under any click signing key"
            : "the URL carries no 'sig'";
        var campaignWhy = campaign is null
            ? "no 'campaign_id' to check the host against"
            : $"host '{target.Host}' is not among the landing domains of campaign '{campaign}'";
        return new ClickRedirectDecision.Refused($"The redirect is not allowed: {why}, and {campaignWhy}.");
    }
}
