using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.HttpOverrides;

namespace Attribution.Api.Infrastructure;

/// <summary>
/// Who sent a request: the connection's address, or the X-Forwarded-For a trusted proxy set (Tracking:TrustedProxies,
/// addresses or CIDR ranges; none by default, so a client cannot pick its own address by sending the header).
/// </summary>
public static class ClientAddress
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services, IConfiguration configuration)
    {
        var trusted = configuration.GetSection("Tracking:TrustedProxies").Get<string[]>() ?? [];
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // ASP.NET Core trusts loopback by default, and every sender once both lists are empty: with no trusted
            // proxy configured the headers are not read at all.
            o.ForwardedHeaders = trusted.Length == 0 ? ForwardedHeaders.None : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            o.ForwardLimit = null;
            foreach (var entry in trusted)
            {
                if (System.Net.IPNetwork.TryParse(entry, out var network)) o.KnownIPNetworks.Add(network);
                else if (IPAddress.TryParse(entry, out var address)) o.KnownProxies.Add(address);
                else throw new InvalidOperationException($"Tracking:TrustedProxies holds '{entry}', which is neither an IP address nor a CIDR range.");
            }
        });
        return services;
    }

    /// <summary>The client's address as text, "unknown" when the transport has none (the in-memory test server).</summary>
    public static string Of(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
    }

    /// <summary>How an IP address or a user id appears in logs: a short hash, enough to tell clients apart and to find
    /// one whose value is known, not to read it back.</summary>
    public static string Hashed(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("attribution-log\n" + value)))[..16];
}
