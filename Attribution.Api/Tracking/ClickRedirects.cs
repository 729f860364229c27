using Attribution.Domain.Tracking;
using Microsoft.Extensions.Options;

namespace Attribution.Api.Tracking;

/// <summary>Configuration section "Tracking", the part the click redirect reads.</summary>
public sealed class ClickSigningOptions
{
    /// <summary>Keys of the click signature (Tracking:ClickSigningKeys:0, :1, …): the first signs, every one verifies.</summary>
    public List<string> ClickSigningKeys { get; set; } = [];
}

public static class ClickRedirects
{
    /// <summary>The click signing keys, checked at start: a key too short to be a secret stops the service instead of
    /// signing links anyone could forge. An empty entry is no key (as an empty Admin:ApiKey is none), so a deployment
    /// can pass an unset variable through.</summary>
    public static IServiceCollection AddClickRedirects(this IServiceCollection services)
    {
        services.AddOptions<ClickSigningOptions>().BindConfiguration("Tracking")
            .Validate(o => o.ClickSigningKeys.All(k => string.IsNullOrEmpty(k) || k.Length >= ClickSigningKeys.MinKeyLength),
                $"Every Tracking:ClickSigningKeys entry needs at least {ClickSigningKeys.MinKeyLength} characters.")
            // A list is configured by index (Tracking__ClickSigningKeys__0); a plain value would bind to no key at all.
            .Validate<IConfiguration>((_, configuration) => string.IsNullOrEmpty(configuration["Tracking:ClickSigningKeys"]),
                "Tracking:ClickSigningKeys is a list: set Tracking:ClickSigningKeys:0 (environment: Tracking__ClickSigningKeys__0), :1, ….")
            .ValidateOnStart();
        services.AddSingleton(sp => new ClickSigningKeys(sp.GetRequiredService<IOptions<ClickSigningOptions>>().Value.ClickSigningKeys.Where(k => !string.IsNullOrEmpty(k))));
        return services;
    }

    /// <summary>The click's own parameters, each at most once: a repeated one is ambiguous (which value was signed, which
    /// host checked?), so it is refused rather than picked. Null, with the reason, for such a query.</summary>
    public static ClickRequest? ReadClick(IQueryCollection query, out string? error)
    {
        ArgumentNullException.ThrowIfNull(query);
        var repeated = new[] { "impression_id", "redirect", "sig", "campaign_id" }.FirstOrDefault(name => query[name].Count > 1);
        error = repeated is null ? null : $"'{repeated}' is given {query[repeated].Count} times; a click URL names it once";
        if (error is not null) return null;
        string? Single(string name) => query[name].Count == 1 ? query[name][0] : null;
        return new ClickRequest(Single("impression_id"), Single("redirect"), Single("sig"), Single("campaign_id"));
    }
}
