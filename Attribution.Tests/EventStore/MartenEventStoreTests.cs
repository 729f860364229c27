using System.Text;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Projections.EventStore;
using Attribution.Tests.Fixtures;
using Marten;
using Npgsql;

namespace Attribution.Tests.EventStore;

/// <summary>The pipeline's COPY writes the rows Marten writes: Marten reads them, folds them and appends after them.</summary>
public sealed class MartenEventStoreTests : IAsyncLifetime
{
    private static readonly DateTime T0 = new(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly string _connectionString = TestPostgres.NewDatabase("marten");
    private NpgsqlDataSource _db = null!;
    private DocumentStore _store = null!;

    public async Task InitializeAsync()
    {
        _db = await EngineHost.MigrateAsync(_connectionString);
        _store = MartenSetup.CreateStore(_db);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _db.DisposeAsync();
        TestPostgres.Drop(_connectionString);
    }

    [Fact]
    public async Task A_stream_the_pipeline_wrote_is_read_folded_and_appended_to_by_Marten_itself()
    {
        var impression = new ImpressionServed { EventId = "m-i", ImpressionId = "m-1", EventTime = T0, IngestTime = T0, CampaignId = "camp-1", BidPrice = 2.5m };
        var click = new AdClicked { EventId = Guid.CreateVersion7().ToString(), ImpressionId = "m-1", EventTime = T0.AddMinutes(1), IngestTime = T0.AddMinutes(1), CampaignId = "camp-1" };
        await using (var conn = await _db.OpenConnectionAsync())
        await using (var tx = await conn.BeginTransactionAsync())
        {
            await new EventStoreWriter(_store).AppendAsync(conn, tx, [
                new NewEvent(impression, 1, 3, 40, Encoding.UTF8.GetBytes("""{"impression_id": "m-1",  "extra": "kept"}""")),
                new NewEvent(click, 2, 3, 41, Encoding.UTF8.GetBytes("{}")),
            ], CancellationToken.None);
            await tx.CommitAsync();
        }

        // Marten appends a conversion after them, checking the version the COPY left in mt_streams.
        var conversion = new ConversionReported { EventId = "m-v", ImpressionId = "m-1", EventTime = T0.AddHours(1), IngestTime = T0.AddHours(1), ConversionValue = 30m, ClickId = click.EventId };
        await using (var session = _store.LightweightSession())
        {
            var e = session.Events.BuildEvent(conversion);
            e.Id = EventIds.MartenId(conversion.EventId);
            session.Events.Append("m-1", 3, e);
            await session.SaveChangesAsync();
        }

        await using var query = _store.QuerySession();
        var stream = await query.Events.FetchStreamAsync("m-1");
        Assert.Equal([1L, 2L, 3L], stream.Select(e => e.Version));
        Assert.Equal(Guid.Parse(click.EventId), stream[1].Id);
        var stored = ImpressionHistory.Stored(stream[0]);
        Assert.Equal((3, 40L, """{"impression_id": "m-1",  "extra": "kept"}"""), (stored.KafkaPartition!.Value, stored.KafkaOffset!.Value, stored.RawPayload));
        Assert.Equal(impression, stored.Event);

        var aggregate = await query.Events.AggregateStreamAsync<ImpressionAggregate>("m-1");
        var gold = aggregate!.Fold(AttributionPolicy.Default).Gold;
        Assert.Equal((true, true, 30m, 2.5m), (gold.IsClicked, gold.IsConverted, gold.Revenue, gold.Cost));
        Assert.Equal(3, await Db.CountAsync(_db, "SELECT version FROM mt_streams WHERE id = 'm-1'"));
        Assert.Equal(3, await Db.CountAsync(_db, "SELECT count(*) FROM events WHERE stream_id = 'm-1'"));
    }

    [Theory]
    [InlineData("0193a5b2-7c1d-7e2f-8a3b-4c5d6e7f8091", "0193a5b2-7c1d-7e2f-8a3b-4c5d6e7f8091")]
    [InlineData("evt-42", null)]
    [InlineData("0193A5B2-7C1D-7E2F-8A3B-4C5D6E7F8091", null)]
    public void A_uuid_event_id_is_marten_s_id_as_it_is_and_any_other_text_a_name_based_one(string eventId, string? same)
    {
        var id = EventIds.MartenId(eventId);

        if (same is not null) Assert.Equal(Guid.Parse(same), id);
        else Assert.Equal(5, id.Version);
        Assert.Equal(id, EventIds.MartenId(eventId));
        Assert.NotEqual(id, EventIds.MartenId(eventId + " "));
    }
}
