using Attribution.Domain.Events;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.EventStore;

/// <summary>An event ready to append: its stream position is decided, its Kafka origin is known.</summary>
public sealed record NewEvent(AdEvent Event, int StreamVersion, int? KafkaPartition, long? KafkaOffset, string RawPayload);

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
        foreach (var n in events)
        {
            var e = n.Event;
            await importer.StartRowAsync(ct);
            await importer.WriteAsync(e.ImpressionId!, NpgsqlDbType.Text, ct);
            await importer.WriteAsync(n.StreamVersion, NpgsqlDbType.Integer, ct);
            await importer.WriteAsync(e.EventId, NpgsqlDbType.Text, ct);
            await importer.WriteAsync(e.Type.ToWire(), NpgsqlDbType.Text, ct);
            await importer.WriteAsync(e.EventTime, NpgsqlDbType.TimestampTz, ct);
            await importer.WriteAsync(e.IngestTime, NpgsqlDbType.TimestampTz, ct);
            await WriteNullable(importer, n.KafkaPartition, NpgsqlDbType.Integer, ct);
            await WriteNullable(importer, n.KafkaOffset, NpgsqlDbType.Bigint, ct);
            await WriteText(importer, e.CampaignId, ct);
            await WriteText(importer, e.CreativeId, ct);
            await WriteText(importer, e.UserId, ct);
            await WriteText(importer, e.GeoCountry, ct);
            await WriteText(importer, e.Platform, ct);
            await WriteNullable(importer, (e as ImpressionServed)?.BidPrice, NpgsqlDbType.Numeric, ct);
            await WriteNullable(importer, (e as ConversionReported)?.ConversionValue, NpgsqlDbType.Numeric, ct);
            await WriteText(importer, (e as ConversionReported)?.ConversionType, ct);
            await WriteText(importer, (e as ConversionReported)?.ClickId, ct);
            await importer.WriteAsync(n.RawPayload, NpgsqlDbType.Json, ct);
        }

        await importer.CompleteAsync(ct);
    }

    private static Task WriteText(NpgsqlBinaryImporter importer, string? value, CancellationToken ct) =>
        value is null ? importer.WriteNullAsync(ct) : importer.WriteAsync(value, NpgsqlDbType.Text, ct);

    private static Task WriteNullable<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken ct)
        where T : struct =>
        value is null ? importer.WriteNullAsync(ct) : importer.WriteAsync(value.Value, type, ct);
}
