using System.Data.Common;
using Attribution.Domain.Events;

namespace Attribution.Projections.EventStore;

/// <summary>An event as the store holds it: the domain event plus where it sits in its stream and in Kafka.</summary>
public sealed record StoredEvent(AdEvent Event, int StreamVersion, long Sequence, int? KafkaPartition, long? KafkaOffset, string RawPayload);

/// <summary>Maps event rows back to domain events; the column list and the mapping live together.</summary>
public static class StoredEvents
{
    public const string Columns =
        "stream_id, stream_version, event_id, event_type, event_time, ingest_time, campaign_id, creative_id, user_id, " +
        "geo_country, platform, bid_price, conversion_value, conversion_type, click_id, seq, kafka_partition, kafka_offset, raw_payload, " +
        "ip_address, user_agent";

    public static StoredEvent Read(DbDataReader r)
    {
        var streamId = r.GetString(0);
        var eventId = r.GetString(2);
        var type = EventTypeNames.TryParse(r.GetString(3))
                   ?? throw new InvalidDataException($"event {eventId} has unknown type {r.GetString(3)}");
        var eventTime = DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc);
        var ingestTime = DateTime.SpecifyKind(r.GetDateTime(5), DateTimeKind.Utc);
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        AdEvent e = type switch
        {
            AdEventType.Impression => new ImpressionServed
            {
                EventId = eventId, ImpressionId = streamId, EventTime = eventTime, IngestTime = ingestTime,
                CampaignId = S(6), CreativeId = S(7), UserId = S(8), GeoCountry = S(9), Platform = S(10), IpAddress = S(19), UserAgent = S(20),
                BidPrice = r.IsDBNull(11) ? 0m : r.GetDecimal(11),
            },
            AdEventType.Click => new AdClicked
            {
                EventId = eventId, ImpressionId = streamId, EventTime = eventTime, IngestTime = ingestTime,
                CampaignId = S(6), CreativeId = S(7), UserId = S(8), GeoCountry = S(9), Platform = S(10), IpAddress = S(19), UserAgent = S(20),
            },
            _ => new ConversionReported
            {
                EventId = eventId, ImpressionId = streamId, EventTime = eventTime, IngestTime = ingestTime,
                CampaignId = S(6), CreativeId = S(7), UserId = S(8), GeoCountry = S(9), Platform = S(10), IpAddress = S(19), UserAgent = S(20),
                ConversionValue = r.IsDBNull(12) ? 0m : r.GetDecimal(12), ConversionType = S(13), ClickId = S(14),
            },
        };
        return new StoredEvent(e, r.GetInt32(1), r.GetInt64(15), r.IsDBNull(16) ? null : r.GetInt32(16),
            r.IsDBNull(17) ? null : r.GetInt64(17), r.GetString(18));
    }
}
