using System.Reflection;
using Attribution.Domain.Events;
using Attribution.Projections.EventStore;
using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using Marten;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Attribution.Tests.Schema;

/// <summary>Issue 20, migration: a database written by the former event store (the events table) moves into Marten's
/// tables once, and everything that reads events sees exactly the rows it saw before.</summary>
public sealed class EventStoreMigrationTests
{
    // Every column the events table had, as its readers select them.
    private const string Columns =
        "seq, stream_id, stream_version, event_id, event_type, event_time, ingest_time, kafka_partition, kafka_offset, campaign_id, " +
        "creative_id, user_id, geo_country, platform, bid_price, conversion_value, conversion_type, click_id, raw_payload::text";

    [Fact]
    public async Task Events_written_before_Marten_move_into_its_tables_with_their_sequence_version_origin_and_payload()
    {
        var connectionString = TestPostgres.NewDatabaseName("tomarten");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);
            await using var db = NpgsqlDataSource.Create(connectionString);
            await SchemaMigrator.MigrateAsync(db, NullLogger.Instance);
            await AsBeforeMartenAsync(db);
            var before = await RowsAsync(db);

            await SchemaMigrator.MigrateAsync(db, NullLogger.Instance);

            Assert.Equal(before, await RowsAsync(db));
            Assert.Equal(0, await Db.CountAsync(db, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'events%'"));
            Assert.Equal(2, await Db.CountAsync(db, "SELECT count(*) FROM mt_streams"));
            Assert.Equal(3, await Db.CountAsync(db, "SELECT version FROM mt_streams WHERE id = 'old-1'"));
            await using var store = MartenSetup.CreateStore(db);
            await using (var session = store.QuerySession())
            {
                var stream = await session.Events.FetchStreamAsync("old-1");
                Assert.Equal([typeof(ImpressionServed), typeof(AdClicked), typeof(ConversionReported)], stream.Select(e => e.EventType));
                Assert.Equal(42.5m, ((ConversionReported)stream[2].Data).ConversionValue);
                Assert.Equal(EventIds.MartenId("old-1-v"), stream[2].Id);
            }

            // The store goes on after the moved events: the next sequence number follows the highest one moved.
            await using (var conn = await db.OpenConnectionAsync())
            await using (var tx = await conn.BeginTransactionAsync())
            {
                var known = await EventStoreReader.KnownEventIdsAsync(conn, tx, ["old-1-i", "old-2-i", "new"], CancellationToken.None);
                Assert.Equal(["old-1-i", "old-2-i"], known.Order(StringComparer.Ordinal));
                await using var next = new NpgsqlCommand("SELECT nextval('mt_events_sequence')", conn, tx);
                Assert.Equal(41L, await next.ExecuteScalarAsync());
            }
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }

    /// <summary>The schema as it stood before migration 13: the events table of migration 1, holding two impressions'
    /// events with gaps in their sequence numbers, as rolled-back batches leave them.</summary>
    private static async Task AsBeforeMartenAsync(NpgsqlDataSource db)
    {
        await using var cmd = db.CreateCommand($$$"""
            DELETE FROM schema_migrations WHERE version = 13;
            DROP VIEW events;
            {{{Script("EventStore.EventStore.sql")}}}
            INSERT INTO events (seq, stream_id, stream_version, event_id, event_type, event_time, ingest_time, kafka_partition, kafka_offset,
                                campaign_id, creative_id, user_id, geo_country, platform, bid_price, conversion_value, conversion_type, click_id, raw_payload)
            OVERRIDING SYSTEM VALUE VALUES
              (3, 'old-1', 1, 'old-1-i', 'IMPRESSION', '2026-01-01 10:00:00.123456+00', '2026-01-01 10:00:01+00', 4, 100, 'camp-1', 'cr-1', 'u-1', 'US', 'IOS', 1.25, NULL, NULL, NULL,
               '{"event_type": "IMPRESSION",  "impression_id": "old-1", "bid_price": 1.25, "extra": {"note": "café ✓"}}'),
              (7, 'old-2', 1, 'old-2-i', 'IMPRESSION', '2026-01-01 11:00:00+00', '2026-01-01 11:00:00+00', NULL, NULL, 'camp-2', NULL, NULL, NULL, NULL, 0.5, NULL, NULL, NULL, '{}'),
              (9, 'old-1', 2, 'old-1-c', 'CLICK', '2026-01-01 10:05:00+00', '2026-01-01 10:05:00+00', 4, 101, 'camp-1', 'cr-1', 'u-1', 'US', 'IOS', NULL, NULL, NULL, NULL, '{"x":1}'),
              (40, 'old-1', 3, 'old-1-v', 'CONVERSION', '2026-01-02 09:00:00+00', '2026-01-02 09:00:00+00', 2, 7, 'camp-1', NULL, 'u-1', NULL, NULL, NULL, 42.5, 'purchase', 'old-1-c', '{"y":[1,2]}');
            """);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> RowsAsync(NpgsqlDataSource db)
    {
        var rows = new List<string>();
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM events ORDER BY seq");
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            rows.Add(string.Join(" | ", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    private static string Script(string name)
    {
        using var stream = typeof(SchemaMigrator).Assembly.GetManifestResourceStream($"Attribution.Projections.{name}")!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
