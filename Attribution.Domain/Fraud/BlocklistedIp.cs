using System.Net;

namespace Attribution.Domain.Fraud;

public static class BlocklistedIp
{
    // Design 004 (fraud: known bad sources): an ip_address inside a range of the blocklist. IPv4-mapped IPv6 addresses
    // were stored as IPv4 (IpAddresses.Canonical), so one range covers both spellings.
    public static bool Flags(string? ipAddress, IReadOnlyList<IPNetwork> blocklist)
    {
        ArgumentNullException.ThrowIfNull(blocklist);
        if (ipAddress is null || blocklist.Count == 0 || !IPAddress.TryParse(ipAddress, out var address)) return false;
        foreach (var network in blocklist)
        {
            if (network.Contains(address)) return true;
        }

        return false;
    }
}
