using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Attribution.Domain.Events;

namespace Attribution.Tests.Fixtures;

/// <summary>Builds wire events for tests, with times relative to a fixed origin.</summary>
public static class Scenario
{
    public static readonly DateTime T0 = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);

    public static JsonObject Impression(string impressionId, string eventId, TimeSpan at, decimal bid = 1.00m, string campaign = "camp-a", string user = "u-1") => new()
    {
        ["event_id"] = eventId,
        ["event_type"] = "IMPRESSION",
        ["event_timestamp"] = Seconds(at),
        ["ingest_timestamp"] = Millis(at),
        ["impression_id"] = impressionId,
        ["campaign_id"] = campaign,
        ["creative_id"] = campaign + "-cr1",
        ["user_id"] = user,
        ["geo_country"] = "US",
        ["platform"] = "IOS",
        ["bid_price"] = bid,
    };

    public static JsonObject Click(string impressionId, string eventId, TimeSpan at, TimeSpan? ingestedAt = null) => new()
    {
        ["event_id"] = eventId,
        ["event_type"] = "CLICK",
        ["event_timestamp"] = Seconds(at),
        ["ingest_timestamp"] = Millis(ingestedAt ?? at),
        ["impression_id"] = impressionId,
    };

    public static JsonObject Conversion(string? impressionId, string eventId, TimeSpan at, decimal value, TimeSpan? ingestedAt = null, string? clickId = null)
    {
        var o = new JsonObject
        {
            ["event_id"] = eventId,
            ["event_type"] = "CONVERSION",
            ["event_timestamp"] = Seconds(at),
            ["ingest_timestamp"] = Millis(ingestedAt ?? at),
            ["conversion_value"] = value,
        };
        if (impressionId is not null) o["impression_id"] = impressionId;
        if (clickId is not null) o["click_id"] = clickId;
        return o;
    }

    /// <summary>The traffic generator's funnel for this many impressions, one per second from T0, with a high click
    /// and conversion rate and long conversion delays so that every rule gets exercised.</summary>
    public static List<JsonObject> GeneratedEvents(int seed, int impressions)
    {
        var model = new Attribution.Api.Simulation.TrafficModel(new Attribution.Api.Simulation.TrafficOptions
        {
            Seed = seed, ClickRate = 0.3, ConversionRate = 0.4, MeanConversionDelay = TimeSpan.FromHours(30),
        });
        var events = new List<JsonObject>();
        for (var i = 0; i < impressions; i++)
        {
            foreach (var e in model.Funnel(T0.AddSeconds(i)))
            {
                e.Payload["ingest_timestamp"] = 1_793_534_400_000L + i;
                events.Add(e.Payload);
            }
        }

        return events;
    }

    public static (string? Key, byte[] Value) Message(JsonObject e) =>
        ((string?)e["impression_id"]?.ToString() ?? (string?)e["click_id"]?.ToString(), Encoding.UTF8.GetBytes(e.ToJsonString()));

    public static AdEvent Parse(JsonObject e) =>
        EventParser.Parse(Encoding.UTF8.GetBytes(e.ToJsonString()), null, T0).Event
        ?? throw new InvalidOperationException("test event is invalid: " + e.ToJsonString());

    private static decimal Seconds(TimeSpan at) => EventParser.ToUnixSeconds(T0 + at);

    private static long Millis(TimeSpan at) => EventParser.ToUnixMilliseconds(T0 + at);

    public static string Iso(DateTime t) => t.ToString("O", CultureInfo.InvariantCulture);
}
