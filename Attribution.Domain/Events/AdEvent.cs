namespace Attribution.Domain.Events;

/// <summary>The three things that happen to an ad: it is served, clicked, and leads to a conversion.</summary>
public enum AdEventType
{
    Impression,
    Click,
    Conversion,
}

/// <summary>An accepted tracking event, as the event store keeps it. Times are UTC with microsecond precision.</summary>
public abstract record AdEvent
{
    public required string EventId { get; init; }

    /// <summary>The stream the event belongs to; null only for a postback whose click_id is not resolved yet.</summary>
    public required string? ImpressionId { get; init; }

    public required DateTime EventTime { get; init; }

    /// <summary>Stamped by the API on receipt, so a replay never changes lateness.</summary>
    public required DateTime IngestTime { get; init; }

    public string? CampaignId { get; init; }
    public string? CreativeId { get; init; }
    public string? UserId { get; init; }
    public string? GeoCountry { get; init; }
    public string? Platform { get; init; }

    /// <summary>The client's address in canonical text; null for an event that carried none (a server-side one).</summary>
    public string? IpAddress { get; init; }

    /// <summary>The client's User-Agent: "" when the request had none, null for an event that carried no such field.</summary>
    public string? UserAgent { get; init; }

    public abstract AdEventType Type { get; }

    public TimeSpan Lateness => IngestTime - EventTime;
}

public sealed record ImpressionServed : AdEvent
{
    /// <summary>The bid price paid for the impression: the cost side of ROAS.</summary>
    public decimal BidPrice { get; init; }

    public override AdEventType Type => AdEventType.Impression;
}

public sealed record AdClicked : AdEvent
{
    public override AdEventType Type => AdEventType.Click;
}

public sealed record ConversionReported : AdEvent
{
    /// <summary>The advertiser's revenue for the conversion: the revenue side of ROAS.</summary>
    public decimal ConversionValue { get; init; }

    public string? ConversionType { get; init; }

    /// <summary>The click the advertiser's postback names, when it names one.</summary>
    public string? ClickId { get; init; }

    public override AdEventType Type => AdEventType.Conversion;
}
