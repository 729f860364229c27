using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Attribution.Tests.Pipeline;

/// <summary>
/// PostgreSQL stopped for 60 s while events stream in (issue 18): tracking keeps accepting into the spool, readiness
/// and every query answer 503, the consumer waits without restarting, and once PostgreSQL is back every acknowledged
/// event is applied exactly once. The service runs as its own process on the default set-up (embedded broker, whose
/// spool is truncated behind the offsets stored in PostgreSQL), against a PostgreSQL server of this class's own.
/// </summary>
public sealed class PostgresOutageTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(60);

    /// <summary>Endpoints that read PostgreSQL, each answering 200 while it is up.</summary>
    private static readonly string[] Queries =
    [
        "/api/v1/impressions/out-0-0", "/api/v1/metrics/campaigns", "/api/v1/audit?limit=5", "/api/v1/campaigns", "/api/v1/pipeline/status",
    ];

    /// <summary>Forward pass only, as the burst: it shares nothing (a PostgreSQL server, a service and a spool of its own), so another order cannot change
    /// its outcome, and it takes minutes.</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public async Task PostgreSQL_stopped_for_60_s_mid_stream_loses_nothing_and_answers_503_meanwhile()
    {
        postgres.EnsureRunning();
        var db = postgres.Database("attribution_outage");
        // An outage four times longer than the consumer may go without polling: a consumer that stopped polling while
        // it waits (rather than pausing its partitions) would be dropped from its group, and librdkafka would say so.
        using var service = LiveService.Start(db, new Dictionary<string, string> { ["Kafka__MaxPollIntervalMs"] = "15000" });
        try
        {
            await RunAsync(service, db);
        }
        catch (Exception e)
        {
            var log = service.Log;
            throw new InvalidOperationException($"{e.Message}\nservice log (end):\n{log[Math.Max(0, log.Length - 30_000)..]}\npostgres log:\n{postgres.Log}", e);
        }
    }

    [Fact]
    public async Task A_rebalance_while_PostgreSQL_is_down_waits_for_the_stored_offsets_and_then_applies_everything_once()
    {
        postgres.EnsureRunning();
        var db = postgres.Database("attribution_rebalance");
        await (await EngineHost.MigrateAsync(db)).DisposeAsync();
        var topic = TestKafka.NewTopic(partitions: 4);
        var settings = EngineHost.Settings(db, topic);
        var events = Enumerable.Range(0, 400).Select(i => Scenario.Impression($"rb-{i}", $"rb-{i}-i", TimeSpan.FromSeconds(i))).ToList();
        TestKafka.Produce(topic, events.Take(200).Select(Scenario.Message));

        // Two consumers of one group split the partitions and apply the first half.
        await using var stays = await EngineHost.StartAsync(settings);
        EngineHost? leaves = await EngineHost.StartAsync(settings);
        try
        {
            var state = stays.Services.GetRequiredService<ConsumerState>();
            var other = leaves.Services.GetRequiredService<ConsumerState>();
            await Eventually.TrueAsync(() => state.Assigned.Length > 0 && other.Assigned.Length > 0 && state.Assigned.Length + other.Assigned.Length == 4,
                "the two consumers to split the 4 partitions");
            await using (var before = NpgsqlDataSource.Create(db))
                await Eventually.ValueAsync(() => Db.CountAsync(before, "SELECT count(*) FROM events"), n => n == 200, "the first half applied");

            // PostgreSQL goes and the second half arrives: both consumers hold a batch they cannot apply and wait with
            // their partitions paused. Then one leaves: the other gives its waiting batch up in the revocation (the
            // stored offsets decide again) and is handed every partition, whose stored offsets it cannot read yet.
            postgres.Kill();
            TestKafka.Produce(topic, events.Skip(200).Select(Scenario.Message));
            await Eventually.TrueAsync(() => state.WaitingForPostgresSince is not null && other.WaitingForPostgresSince is not null,
                "both consumers to wait for PostgreSQL", TimeSpan.FromSeconds(30));
            await leaves.DisposeAsync();
            leaves = null;
            await Eventually.TrueAsync(() => state.WaitingForPostgres == PostgresWait.Assignment,
                "the remaining consumer to wait for PostgreSQL in its assignment", TimeSpan.FromSeconds(30));
            Assert.Empty(state.Assigned);

            postgres.Start();
            await Eventually.TrueAsync(() => state.Assigned.Length == 4, "the remaining consumer to take all 4 partitions", TimeSpan.FromSeconds(30));
            await using var data = NpgsqlDataSource.Create(db);
            await Eventually.ValueAsync(async () => (Events: await Db.CountAsync(data, "SELECT count(*) FROM events"), Partitions: await PerPartitionAsync(data)),
                n => n.Events == 400, "every event applied (events per partition / stored offsets)", TimeSpan.FromSeconds(60));
            Assert.Equal(400, await Db.CountAsync(data, "SELECT count(DISTINCT event_id) FROM events"));
            Assert.Equal(400, await Db.CountAsync(data, "SELECT count(*) FROM ad_performance_state"));
            Assert.Equal(0, await Db.CountAsync(data, "SELECT count(*) FROM kafka_lost_messages"));
            Assert.Equal(0, stays.Services.GetRequiredService<PipelineMetrics>().ConsumerRestarts.Value);
            Assert.Null(state.WaitingForPostgresSince);
        }
        finally
        {
            postgres.EnsureRunning();
            if (leaves is not null) await leaves.DisposeAsync();
        }
    }

    /// <summary>Events per partition and the stored offsets, for a failure message: which partition stopped.</summary>
    private static async Task<string> PerPartitionAsync(NpgsqlDataSource data)
    {
        await using var events = data.CreateCommand(
            "SELECT string_agg(kafka_partition || ':' || n, ' ' ORDER BY kafka_partition) FROM (SELECT kafka_partition, count(*) n FROM events GROUP BY 1) p");
        await using var offsets = data.CreateCommand("SELECT string_agg(kafka_partition || '@' || next_offset, ' ' ORDER BY kafka_partition) FROM kafka_offsets");
        return $"{await events.ExecuteScalarAsync()} / {await offsets.ExecuteScalarAsync()}";
    }

    private async Task RunAsync(LiveService service, string db)
    {
        // Short enough that a probe hanging on an unreachable PostgreSQL fails the test instead of answering late.
        using var http = new HttpClient { BaseAddress = service.Address, Timeout = TimeSpan.FromSeconds(10) };
        await service.WaitAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK,
            "the service to be ready");

        using var stop = new CancellationTokenSource();
        var stream = new EventStream(service.Address);
        var streaming = stream.RunAsync(stop.Token);
        await using (var before = NpgsqlDataSource.Create(db))
        {
            await Eventually.ValueAsync(() => Db.CountAsync(before, "SELECT count(*) FROM events"), n => n >= 1000, "1,000 events applied before the outage");
        }

        foreach (var query in Queries)
        {
            using var ok = await http.GetAsync(new Uri(query, UriKind.Relative));
            Assert.True(ok.StatusCode == HttpStatusCode.OK, $"{query} answered {ok.StatusCode} before the outage");
        }

        var acknowledgedBefore = stream.AcknowledgedCount;
        postgres.Kill();
        var stoppedAt = DateTime.UtcNow;

        // While PostgreSQL is away: not ready, every query a 503 ProblemDetails with Retry-After, tracking still
        // accepting, and the consumer waiting rather than restarting.
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.ServiceUnavailable,
            "/health/ready to answer 503", TimeSpan.FromSeconds(20));
        foreach (var query in Queries) await AssertUnavailableAsync(http, query);
        await Eventually.ValueAsync(() => MetricAsync(http, "attribution_pipeline_waiting_for_postgres"), v => v == 1,
            "the consumer to say it waits for PostgreSQL", TimeSpan.FromSeconds(20));
        await Eventually.TrueAsync(() => stream.AcknowledgedCount > acknowledgedBefore + 1000,
            "tracking to acknowledge 1,000 more events while PostgreSQL is down", TimeSpan.FromSeconds(30));

        // The deliberate outage: what it tests is that nothing gives up over this long.
        var remaining = stoppedAt + Outage - DateTime.UtcNow;
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining);

        Assert.False(service.HasExited, "the service exited while PostgreSQL was down");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode);
        await AssertUnavailableAsync(http, Queries[0]);
        Assert.Equal(1, await MetricAsync(http, "attribution_pipeline_waiting_for_postgres"));
        Assert.Equal(0, await MetricAsync(http, "attribution_kafka_consumer_restarts_total"));
        Assert.Equal(0, stream.Refused);
        var acknowledgedDuringOutage = stream.AcknowledgedCount - acknowledgedBefore;

        postgres.Start();
        await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode == HttpStatusCode.OK,
            "/health/ready to answer 200 again", TimeSpan.FromSeconds(30));
        await Eventually.ValueAsync(() => MetricAsync(http, "attribution_pipeline_waiting_for_postgres"), v => v == 0,
            "the consumer to go on (its next attempt is at most 15 s away)", TimeSpan.FromSeconds(45));
        await stop.CancelAsync();
        await streaming;
        Assert.True(stream.Refused == 0, $"{stream.Refused} tracking requests were refused; the first: {stream.FirstRefusal}");

        var acknowledged = stream.Acknowledged();
        await using var data = NpgsqlDataSource.Create(db);
        await Eventually.ValueAsync(() => Db.CountAsync(data, "SELECT count(*) FROM events WHERE event_id = ANY($1)", [acknowledged.ToArray()]),
            n => n == acknowledged.Count, $"all {acknowledged.Count} acknowledged events ({acknowledgedDuringOutage} during the outage) in the event store",
            TimeSpan.FromSeconds(120));

        // Exactly once, nothing lost, nothing more, and Gold folded from all of it.
        Assert.Equal(acknowledged.Count, await Db.CountAsync(data, "SELECT count(*) FROM events"));
        Assert.Equal(acknowledged.Count, await Db.CountAsync(data, "SELECT count(DISTINCT event_id) FROM events"));
        Assert.Equal(0, await Db.CountAsync(data, "SELECT count(*) FROM kafka_lost_messages"));
        Assert.Equal(stream.Impressions, await Db.CountAsync(data, "SELECT count(*) FROM ad_performance_state"));
        Assert.Equal(stream.Clicks, await Db.CountAsync(data, "SELECT count(*) FROM ad_performance_state WHERE is_clicked"));
        Assert.Equal(stream.Conversions, await Db.CountAsync(data, "SELECT count(*) FROM ad_performance_state WHERE is_converted"));
        Assert.Equal(stream.Conversions * EventStream.ConversionValue,
            await Db.CountAsync(data, "SELECT coalesce(sum(revenue), 0)::bigint FROM ad_performance_state"));

        foreach (var query in Queries)
            await Eventually.TrueAsync(async () => (await http.GetAsync(new Uri(query, UriKind.Relative))).StatusCode == HttpStatusCode.OK,
                $"{query} to answer 200 again", TimeSpan.FromSeconds(30));
        Assert.Equal(0, await MetricAsync(http, "attribution_kafka_consumer_restarts_total"));
        Assert.DoesNotContain("Kafka consumer failed", service.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("maximum poll interval", service.Log, StringComparison.OrdinalIgnoreCase);
        // The forwarder truncates again behind the applied offsets: the spool lets go of everything.
        await Eventually.TrueAsync(async () => JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/v1/pipeline/status", UriKind.Relative)))
            .RootElement.GetProperty("spool").GetProperty("spool_bytes").GetInt64() == 0, "the spool to be truncated behind the applied events");
    }

    private static async Task AssertUnavailableAsync(HttpClient http, string query)
    {
        using var response = await http.GetAsync(new Uri(query, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{query} answered {response.StatusCode} while PostgreSQL was down: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Contains("PostgreSQL is unavailable", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A series without labels from the service's Prometheus scrape.</summary>
    private static async Task<double> MetricAsync(HttpClient http, string name)
    {
        var text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))
                   ?? throw new InvalidOperationException($"/metrics has no series {name}");
        return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Tracking traffic until stopped: NDJSON batches of impressions, each with a click for every impression of the
    /// batch before and a conversion for every other one, and a pixel per batch. Remembers every event a 2xx
    /// acknowledged, and what Gold must therefore show.
    /// </summary>
    private sealed class EventStream(Uri address)
    {
        public const long ConversionValue = 2;
        private const int ImpressionsPerBatch = 20;
        private readonly Lock _gate = new();
        private readonly List<string> _acknowledged = [];

        public long Impressions { get; private set; }

        public long Clicks { get; private set; }

        public long Conversions { get; private set; }

        public int Refused { get; private set; }

        public string? FirstRefusal { get; private set; }

        public int AcknowledgedCount { get { lock (_gate) return _acknowledged.Count; } }

        public List<string> Acknowledged() { lock (_gate) return [.. _acknowledged]; }

        public async Task RunAsync(CancellationToken stop)
        {
            using var http = TestIngestKey.Client(address, TimeSpan.FromSeconds(30));
            List<string> previous = [];
            for (var batch = 0; !stop.IsCancellationRequested; batch++)
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                var events = new List<(string Id, string Json)>();
                var impressions = Enumerable.Range(0, ImpressionsPerBatch).Select(i => $"out-{batch}-{i}").ToList();
                foreach (var imp in impressions)
                    events.Add(($"{imp}-i", $$"""{"event_id":"{{imp}}-i","event_type":"IMPRESSION","impression_id":"{{imp}}","campaign_id":"c-outage","bid_price":0.5,"event_timestamp":{{Seconds(now - 2)}}}"""));
                var conversions = 0;
                for (var i = 0; i < previous.Count; i++)
                {
                    events.Add(($"{previous[i]}-c", $$"""{"event_id":"{{previous[i]}}-c","event_type":"CLICK","impression_id":"{{previous[i]}}","event_timestamp":{{Seconds(now - 1)}}}"""));
                    if (i % 2 != 0) continue;
                    events.Add(($"{previous[i]}-v", $$"""{"event_id":"{{previous[i]}}-v","event_type":"CONVERSION","impression_id":"{{previous[i]}}","conversion_value":{{ConversionValue}},"event_timestamp":{{Seconds(now - 0.5)}}}"""));
                    conversions++;
                }

                using var content = new StringContent(string.Join('\n', events.Select(e => e.Json)), Encoding.UTF8, "application/x-ndjson");
                if (await SendAsync(http, h => h.PostAsync(new Uri("/api/v1/events", UriKind.Relative), content), HttpStatusCode.Accepted, events.Select(e => e.Id)))
                {
                    lock (_gate)
                    {
                        Impressions += impressions.Count;
                        Clicks += previous.Count;
                        Conversions += conversions;
                    }

                    previous = impressions;
                }

                var pixel = $"px-{batch}";
                if (await SendAsync(http, h => h.GetAsync(new Uri($"/pixel?impression_id={pixel}&event_id={pixel}-i&campaign_id=c-outage&bid_price=0.5&event_timestamp={Seconds(now)}", UriKind.Relative)),
                        HttpStatusCode.OK, [$"{pixel}-i"]))
                {
                    lock (_gate) Impressions++;
                }

                // The stream's pace (about 500 events a second), not a wait for anything.
                await Task.Delay(TimeSpan.FromMilliseconds(100), CancellationToken.None);
            }
        }

        private async Task<bool> SendAsync(HttpClient http, Func<HttpClient, Task<HttpResponseMessage>> send, HttpStatusCode expected, IEnumerable<string> ids)
        {
            string refusal;
            try
            {
                using var response = await send(http);
                if (response.StatusCode == expected)
                {
                    lock (_gate) _acknowledged.AddRange(ids);
                    return true;
                }

                refusal = $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                refusal = e.Message;
            }

            lock (_gate)
            {
                Refused++;
                FirstRefusal ??= refusal;
            }

            return false;
        }

        private static string Seconds(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture);
    }
}
