using System.Net;
using System.Net.Sockets;

namespace Attribution.Domain.Events;

/// <summary>The ip_address field: an IPv4 address in dotted-quad form or an IPv6 address, kept in one canonical text
/// so that one client is one value (the fraud rules count clicks per address).</summary>
public static class IpAddresses
{
    /// <summary>The canonical text of an address, or null when the text is none. IPv4 needs all four parts
    /// ("10.1" is not an address here, though the socket API reads it as one), an IPv4-mapped IPv6 address is its IPv4
    /// address, and a zone ("%eth0") names an interface on the sender's machine, not a client.</summary>
    public static string? Canonical(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length is 0 or > 64 || text.Contains('%', StringComparison.Ordinal)) return null;
        if (!IPAddress.TryParse(text, out var address)) return null;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var parts = text.Split('.');
            if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit))) return null;
        }
        else if (!text.Contains(':', StringComparison.Ordinal))
        {
            return null;
        }

        return (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();
    }
}
