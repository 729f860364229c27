namespace Attribution.Domain.Events;

/// <summary>The snake_case field names of the tracking event schema (design 000 §3.1).</summary>
public static class EventFields
{
    public const string EventId = "event_id";
    public const string EventType = "event_type";
    public const string EventTimestamp = "event_timestamp";
    public const string IngestTimestamp = "ingest_timestamp";
    public const string ImpressionId = "impression_id";
    public const string CampaignId = "campaign_id";
    public const string CreativeId = "creative_id";
    public const string UserId = "user_id";
    public const string GeoCountry = "geo_country";
    public const string Platform = "platform";
    public const string BidPrice = "bid_price";
    public const string ConversionValue = "conversion_value";
    public const string ConversionType = "conversion_type";
    public const string ClickId = "click_id";
    public const string IpAddress = "ip_address";
    public const string UserAgent = "user_agent";

    /// <summary>Fields the pixel and click endpoints take from the request itself (the connection's address, the
    /// User-Agent header), never from their URL: a client must not choose what the fraud rules judge it by.</summary>
    public static readonly IReadOnlySet<string> ObservedByTracking = new HashSet<string>(StringComparer.Ordinal) { IpAddress, UserAgent };

    /// <summary>Fields whose query-string text is a number on the wire.</summary>
    public static readonly IReadOnlySet<string> Numeric = new HashSet<string>(StringComparer.Ordinal)
    {
        EventTimestamp, BidPrice, ConversionValue,
    };
}
