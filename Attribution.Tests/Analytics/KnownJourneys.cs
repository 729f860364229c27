using System.Text.Json.Nodes;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Analytics;

/// <summary>
/// Three users, two campaigns, small enough to work out every answer by hand.
/// u-1 clicks camp-a (i-1) then camp-b (i-2) and converts on i-2 for 100; u-2 clicks camp-a (i-3), later camp-b (i-4), and
/// converts on i-3 for 40, so Gold credits camp-a while user-level last click credits camp-b; u-3 sees camp-a twice and
/// never clicks. Clicks and conversions carry only the impression id: user and campaign come from the impression.
/// </summary>
public static class KnownJourneys
{
    public static readonly TimeSpan M = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan H = TimeSpan.FromHours(1);

    public static DateTime From => T0;

    public static DateTime To => T0.AddDays(1);

    public static List<JsonObject> Events(string prefix = "") =>
    [
        Impression(prefix + "i-1", prefix + "e1", 0 * M, bid: 1.00m, campaign: "camp-a", user: "u-1"),
        Click(prefix + "i-1", prefix + "e2", 10 * M),
        Impression(prefix + "i-2", prefix + "e3", 60 * M, bid: 2.00m, campaign: "camp-b", user: "u-1"),
        Click(prefix + "i-2", prefix + "e4", 65 * M),
        Conversion(prefix + "i-2", prefix + "e5", 120 * M, 100m),
        Impression(prefix + "i-3", prefix + "e6", 30 * M, bid: 1.00m, campaign: "camp-a", user: "u-2"),
        Click(prefix + "i-3", prefix + "e7", 40 * M),
        Impression(prefix + "i-4", prefix + "e8", 120 * M, bid: 2.00m, campaign: "camp-b", user: "u-2"),
        Click(prefix + "i-4", prefix + "e9", 150 * M),
        Conversion(prefix + "i-3", prefix + "e10", 180 * M, 40m),
        Impression(prefix + "i-5", prefix + "e11", 90 * M, bid: 0.50m, campaign: "camp-a", user: "u-3"),
        Impression(prefix + "i-6", prefix + "e12", 300 * M, bid: 0.50m, campaign: "camp-a", user: "u-3"),
    ];

    public static string Window => $"from={Iso(From)}&to={Iso(To)}";
}
