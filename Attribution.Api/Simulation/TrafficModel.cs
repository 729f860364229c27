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

    /// <summary>Share of users given a profile in dim_users; the others fall in the audience's "unknown".</summary>
    public double ProfileRate { get; init; } = 0.9;

    /// <summary>Share of impressions that are fraud (issue 22's demo), split evenly between bots, click floods from a
    /// few addresses, clicks from another country than their impression, and conversions injected seconds after the
    /// click. Every event then carries a client (ip_address, user_agent), as /pixel and /click record one.</summary>
    public double FraudShare { get; init; }
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
        var userId = UserId(_random.Next(options.Users));
        var geo = Geos[_random.Next(Geos.Length)];
        var platform = Platforms[_random.Next(Platforms.Length)];
        var impressionId = $"imp-{options.Seed}-{n:D9}";
        var bid = decimal.Round(CampaignBids[campaign % CampaignBids.Length] * (decimal)(0.5 + _random.NextDouble()), 4);

        var fraud = options.FraudShare > 0 && _random.NextDouble() < options.FraudShare ? (FraudKind)_random.Next(4) : FraudKind.None;
        var client = options.FraudShare > 0 ? Client(fraud, _random.Next(options.Users)) : default;
        if (fraud == FraudKind.Flood) userId = client.FloodUser!;
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

        JsonObject WithClient(JsonObject e)
        {
            if (client.UserAgent is null) return e;
            e[EventFields.IpAddress] = client.IpAddress;
            e[EventFields.UserAgent] = client.UserAgent;
            return e;
        }

        var funnel = new List<ScheduledEvent>(3);
        var impression = WithClient(Event(EventTypeNames.Impression, impressionTime));
        impression[EventFields.BidPrice] = bid;
        funnel.Add(new ScheduledEvent(impressionTime, impression));
        // Floods, mismatched countries and injected conversions all need their click.
        if (fraud is FraudKind.Flood or FraudKind.GeoMismatch or FraudKind.InjectedConversion || _random.NextDouble() < options.ClickRate)
        {
            var clickTime = EventParser.ToMicroseconds(impressionTime + Exponential(options.MeanClickDelay));
            var click = WithClient(Event(EventTypeNames.Click, clickTime));
            if (fraud == FraudKind.GeoMismatch) click[EventFields.GeoCountry] = Geos[(Array.IndexOf(Geos, geo) + 1 + _random.Next(Geos.Length - 1)) % Geos.Length];
            funnel.Add(new ScheduledEvent(clickTime, click));
            if (fraud == FraudKind.InjectedConversion || _random.NextDouble() < options.ConversionRate)
            {
                var conversionTime = EventParser.ToMicroseconds(clickTime + (fraud == FraudKind.InjectedConversion
                    ? TimeSpan.FromMilliseconds(500 + _random.Next(4000))
                    : Exponential(options.MeanConversionDelay)));
                var conversion = WithClient(Event(EventTypeNames.Conversion, conversionTime));
                conversion[EventFields.ConversionValue] = decimal.Round((decimal)(5 + _random.NextDouble() * 195), 2);
                conversion[EventFields.ConversionType] = "purchase";
                conversion["meta_pixels"] = new JsonObject { ["page"] = "/checkout", ["sdk"] = "sim-" + options.Seed.ToString(CultureInfo.InvariantCulture) };
                funnel.Add(new ScheduledEvent(conversionTime, conversion));
            }
        }

        return funnel;
    }

    private enum FraudKind
    {
        Bot,
        Flood,
        GeoMismatch,
        InjectedConversion,
        None,
    }

    private static readonly string[] Browsers =
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    ];

    private static readonly string[] Bots = ["Mozilla/5.0 (compatible; Googlebot/2.1)", "python-requests/2.31.0", "HeadlessChrome/124.0", "curl/8.5.0"];

    private readonly record struct ClientOf(string IpAddress, string? UserAgent, string? FloodUser);

    /// <summary>A user's own address and browser; a flood's from one of three addresses (documentation ranges), as one
    /// of three users, so both the flooding and the velocity rule see it; a bot's User-Agent names itself.</summary>
    private ClientOf Client(FraudKind fraud, int user)
    {
        if (fraud == FraudKind.Flood)
        {
            var source = _random.Next(3);
            return new($"203.0.113.{source + 10}", Browsers[source], $"u-flood-{source}");
        }

        var ip = string.Create(CultureInfo.InvariantCulture, $"100.{64 + (user >> 16) % 64}.{(user >> 8) & 255}.{user & 255}");
        return new(ip, fraud == FraudKind.Bot ? Bots[_random.Next(Bots.Length)] : Browsers[user % Browsers.Length], null);
    }

    private static readonly string[] AgeBands = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"];
    private static readonly string[] Genders = ["female", "male", "other"];
    private static readonly string[] Interests = ["travel", "sports", "cooking", "gaming", "fashion", "finance", "music", "tech"];
    private static readonly string[] Segments = ["new", "returning", "loyal", "lapsed"];

    private static string UserId(int user) => $"u-{user:D6}";

    /// <summary>
    /// The profile of a user, as one line of POST /api/v1/users:batch, or null for a user left without one. Drawn from
    /// the seed and the user alone, so a profile is the same however many events are generated, and in bands only.
    /// </summary>
    public JsonObject? ProfileOf(int user)
    {
        var random = new Random(unchecked(options.Seed * 1_000_003 + user));
        if (random.NextDouble() >= options.ProfileRate) return null;
        var interests = new JsonArray();
        foreach (var interest in Interests.Where(_ => random.NextDouble() < 0.25)) interests.Add(interest);
        return new JsonObject
        {
            ["user_id"] = UserId(user),
            ["age_band"] = AgeBands[random.Next(AgeBands.Length)],
            ["gender"] = Genders[random.Next(Genders.Length)],
            ["country"] = Geos[random.Next(Geos.Length)],
            ["interests"] = interests,
            ["segment"] = Segments[random.Next(Segments.Length)],
        };
    }

    public bool Duplicate() => options.DuplicateRate > 0 && _random.NextDouble() < options.DuplicateRate;

    private TimeSpan Exponential(TimeSpan mean) =>
        TimeSpan.FromTicks((long)(-Math.Log(1 - _random.NextDouble()) * mean.Ticks) + TimeSpan.TicksPerMillisecond);
}
