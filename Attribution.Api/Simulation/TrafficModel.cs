using System.Globalization;
using System.Text.Json.Nodes;
using Attribution.Domain.Events;

namespace Attribution.Api.Simulation;

/// <summary>Knobs of the traffic generator (design 000 §3.1: IMPRESSION → CLICK 5 % → CONVERSION 10 %).</summary>
public sealed record TrafficOptions
{
    public int Seed { get; init; } = 42;
    public int Campaigns { get; init; } = 5;
    public int CreativesPerCampaign { get; init; } = 3;
    public int Users { get; init; } = 20_000;
    public double ClickRate { get; init; } = 0.05;
    public double ConversionRate { get; init; } = 0.10;
    public TimeSpan MeanClickDelay { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan MeanConversionDelay { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Share of events sent twice, to exercise dedup.</summary>
    public double DuplicateRate { get; init; }
}

/// <summary>A generated event and when it happens.</summary>
public sealed record ScheduledEvent(DateTime EventTime, JsonObject Payload);

/// <summary>The probabilistic funnel: each impression may be clicked after a delay, each click may convert.</summary>
public sealed class TrafficModel(TrafficOptions options)
{
    private static readonly string[] Geos = ["US", "GB", "DE", "FR", "IN", "BR", "JP", "CA"];
    private static readonly string[] Platforms = ["IOS", "ANDROID", "WEB", "CTV"];
    private static readonly decimal[] CampaignBids = [0.50m, 0.80m, 1.20m, 1.50m, 2.10m, 0.95m, 1.75m, 0.65m];

    private readonly Random _random = new(options.Seed);
    private long _impressions;

    public TrafficOptions Options => options;

    /// <summary>One impression's funnel, in event-time order.</summary>
    public IReadOnlyList<ScheduledEvent> Funnel(DateTime impressionTime)
    {
        var n = Interlocked.Increment(ref _impressions);
        var campaign = _random.Next(options.Campaigns);
        var campaignId = $"camp-{campaign + 1:D2}";
        var creativeId = $"{campaignId}-cr-{_random.Next(options.CreativesPerCampaign) + 1}";
        var userId = $"u-{_random.Next(options.Users):D6}";
        var geo = Geos[_random.Next(Geos.Length)];
        var platform = Platforms[_random.Next(Platforms.Length)];
        var impressionId = $"imp-{options.Seed}-{n:D9}";
        var bid = decimal.Round(CampaignBids[campaign % CampaignBids.Length] * (decimal)(0.5 + _random.NextDouble()), 4);

        JsonObject Event(string type, DateTime at) => new()
        {
            [EventFields.EventId] = $"{impressionId}-{type.ToLowerInvariant()[..3]}",
            [EventFields.EventType] = type,
            [EventFields.EventTimestamp] = EventParser.ToUnixSeconds(at),
            [EventFields.ImpressionId] = impressionId,
            [EventFields.CampaignId] = campaignId,
            [EventFields.CreativeId] = creativeId,
            [EventFields.UserId] = userId,
            [EventFields.GeoCountry] = geo,
            [EventFields.Platform] = platform,
        };

        var funnel = new List<ScheduledEvent>(3);
        var impression = Event(EventTypeNames.Impression, impressionTime);
        impression[EventFields.BidPrice] = bid;
        funnel.Add(new ScheduledEvent(impressionTime, impression));
        if (_random.NextDouble() < options.ClickRate)
        {
            var clickTime = EventParser.ToMicroseconds(impressionTime + Exponential(options.MeanClickDelay));
            funnel.Add(new ScheduledEvent(clickTime, Event(EventTypeNames.Click, clickTime)));
            if (_random.NextDouble() < options.ConversionRate)
            {
                var conversionTime = EventParser.ToMicroseconds(clickTime + Exponential(options.MeanConversionDelay));
                var conversion = Event(EventTypeNames.Conversion, conversionTime);
                conversion[EventFields.ConversionValue] = decimal.Round((decimal)(5 + _random.NextDouble() * 195), 2);
                conversion[EventFields.ConversionType] = "purchase";
                conversion["meta_pixels"] = new JsonObject { ["page"] = "/checkout", ["sdk"] = "sim-" + options.Seed.ToString(CultureInfo.InvariantCulture) };
                funnel.Add(new ScheduledEvent(conversionTime, conversion));
            }
        }

        return funnel;
    }

    public bool Duplicate() => options.DuplicateRate > 0 && _random.NextDouble() < options.DuplicateRate;

    private TimeSpan Exponential(TimeSpan mean) =>
        TimeSpan.FromTicks((long)(-Math.Log(1 - _random.NextDouble()) * mean.Ticks) + TimeSpan.TicksPerMillisecond);
}
