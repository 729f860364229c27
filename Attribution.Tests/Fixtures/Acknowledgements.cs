using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Attribution.Projections.Pipeline;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>What a test of a fault holds the service to: every event it acknowledged is applied exactly once, nothing
/// it was never sent appears, and Gold is what a run without the fault makes of the same events.</summary>
internal static class Acknowledgements
{
    /// <summary>Waits until the service has forwarded and applied everything it holds, then checks the store.</summary>
    public static async Task AssertAppliedExactlyOnceAsync(Func<HttpClient> service, string connectionString, TrackingLoad load, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(load);
        await using var db = NpgsqlDataSource.Create(connectionString);
        var acknowledged = load.Acknowledged.ToArray();
        Assert.NotEmpty(acknowledged);
        await Eventually.ValueAsync(() => Db.CountAsync(db, "SELECT count(*) FROM events WHERE event_id = ANY($1)", [acknowledged]),
            n => n == acknowledged.Length, $"all {acknowledged.Length} acknowledged events in the event store", timeout);
        // Whatever else the spool held (events sent to an instance killed before it answered) is applied too before
        // the store is judged.
        await Eventually.ValueAsync(() => Status(service), s => s.GetProperty("spool").GetProperty("spool_bytes").GetInt64() == 0 && s.GetProperty("lag").GetInt64() == 0,
            "the spool empty and no lag", timeout);

        var stored = await StoredIdsAsync(db);
        var sent = load.Sent;
        Assert.Empty(stored.Where(id => !sent.Contains(id)).Take(10));
        Assert.Equal(0, await Db.CountAsync(db, "SELECT count(*) FROM kafka_lost_messages"));
        // Each Gold row counts the events folded into it: their sum is the store's size only if none was folded twice.
        Assert.Equal(stored.Count, await Db.CountAsync(db, "SELECT coalesce(sum(stream_version), 0) FROM ad_performance_state"));
        Assert.Equal(await Db.GoldSnapshotAsync(db, withLateness: false), await ReferenceGoldAsync(db));
    }

    private static async Task<JsonElement> Status(Func<HttpClient> service)
    {
        using var http = service();
        return await http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/pipeline/status", UriKind.Relative));
    }

    private static async Task<HashSet<string>> StoredIdsAsync(NpgsqlDataSource db)
    {
        var ids = new HashSet<string>();
        await using var cmd = db.CreateCommand("SELECT event_id FROM events");
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) ids.Add(reader.GetString(0));
        return ids;
    }

    /// <summary>The same events applied in one go, in the order they were stored, to a database of their own: the run
    /// without faults.</summary>
    private static async Task<List<string>> ReferenceGoldAsync(NpgsqlDataSource faulted)
    {
        var payloads = new List<byte[]>();
        await using (var cmd = faulted.CreateCommand("SELECT raw_payload::text FROM events ORDER BY seq"))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync()) payloads.Add(Encoding.UTF8.GetBytes(reader.GetString(0)));
        }

        var reference = TestPostgres.NewDatabase("reference");
        try
        {
            await using var engine = await EngineHost.StartAsync(EngineHost.Settings(reference, TestKafka.NewTopic(1)), runConsumer: false);
            var applier = engine.Services.GetRequiredService<BatchApplier>();
            long offset = 0;
            foreach (var chunk in payloads.Chunk(2000))
                await applier.ApplyAsync("reference", "reference", "reference", chunk.Select(p => new KafkaRecord(0, offset++, null, p, Scenario.T0)).ToList(),
                    CancellationToken.None);
            return await Db.GoldSnapshotAsync(engine.DataSource, withLateness: false);
        }
        finally
        {
            TestPostgres.Drop(reference);
        }
    }
}
