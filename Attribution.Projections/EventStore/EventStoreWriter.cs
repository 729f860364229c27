using Attribution.Domain.Events;
using Attribution.Projections.Schema;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.EventStore;

/// <summary>An event ready to append: its stream position is decided, its Kafka origin is known. The payload stays the
/// UTF-8 bytes it arrived as (valid JSON: it parsed), which PostgreSQL's json takes as they are.</summary>
public sealed record NewEvent(AdEvent Event, int StreamVersion, int? KafkaPartition, long? KafkaOffset, ReadOnlyMemory<byte> RawPayload);

/// <summary>Appends to the events table with binary COPY: the hot path of the pipeline.</summary>
public static class EventStoreWriter
{
    public static async Task AppendAsync(NpgsqlConnection conn, IReadOnlyList<NewEvent> events, CancellationToken ct)
    {
        if (events.Count == 0) return;
        await using var importer = await conn.BeginBinaryImportAsync(
            "COPY events (stream_id, stream_version, event_id, event_type, event_time, ingest_time, kafka_partition, " +
            "kafka_offset, campaign_id, creative_id, user_id, geo_country, platform, bid_price, conversion_value, " +
            "conversion_type, click_id, raw_payload) FROM STDIN (FORMAT BINARY)", ct);
        // The per-value writes only fill Npgsql's buffer (a flush to the socket is rare and short): done
        // synchronously they cost about a third less than 18 awaited calls per row, on the pipeline's hottest loop.
        foreach (var n in events)
        {
            ct.ThrowIfCancellationRequested();
            var e = n.Event;
            importer.StartRow();
            importer.Write(e.ImpressionId!, NpgsqlDbType.Text);
            importer.Write(n.StreamVersion, NpgsqlDbType.Integer);
            importer.Write(e.EventId, NpgsqlDbType.Text);
            importer.Write(e.Type.ToWire(), NpgsqlDbType.Text);
            importer.Write(e.EventTime, NpgsqlDbType.TimestampTz);
            importer.Write(e.IngestTime, NpgsqlDbType.TimestampTz);
            importer.WriteNullable(n.KafkaPartition, NpgsqlDbType.Integer);
            importer.WriteNullable(n.KafkaOffset, NpgsqlDbType.Bigint);
            importer.WriteText(e.CampaignId);
            importer.WriteText(e.CreativeId);
            importer.WriteText(e.UserId);
            importer.WriteText(e.GeoCountry);
            importer.WriteText(e.Platform);
            importer.WriteNullable((e as ImpressionServed)?.BidPrice, NpgsqlDbType.Numeric);
            importer.WriteNullable((e as ConversionReported)?.ConversionValue, NpgsqlDbType.Numeric);
            importer.WriteText((e as ConversionReported)?.ConversionType);
            importer.WriteText((e as ConversionReported)?.ClickId);
            importer.Write(n.RawPayload, NpgsqlDbType.Json);
        }

        await importer.CompleteAsync(ct);
    }
}
