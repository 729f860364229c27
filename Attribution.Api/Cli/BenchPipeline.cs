using System.Diagnostics;
using System.Text;
using Attribution.Api.Simulation;
using Attribution.Domain.Events;
using Attribution.Projections;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Confluent.Kafka;
using Npgsql;

namespace Attribution.Api.Cli;

internal sealed record PipelineResult(
    long Events, long Impressions, int Partitions, double Seconds, double EventsPerSecond,
    Ceiling Ceiling, long Lost, bool EveryEventInGold,
    string Rollups, double PeakLagMessages, double ProcessCpuMicrosPerEvent, double MachineBusy, int Consumers,
    long WarmupEvents, double ColdEventsPerSecond)
{
    public double Ratio => EventsPerSecond / Ceiling.EventsPerSecond;

    public double CeilingEventsPerSecond => Ceiling.EventsPerSecond;

    public bool Valid => Lost == 0 && EveryEventInGold;
}

/// <summary>
/// Part 1: N events from Kafka (the embedded cluster, many partitions) through the consumer into the event store,
/// Gold and whatever else the batch transaction maintains; then the PostgreSQL ceiling on the same rows. The first
/// W of them warm the service up (JIT tiers, connection pools, prepared statements) untimed, as the latency part
/// discards its first seconds; the throughput counts the other N − W, and the report also gives the cold figure.
/// </summary>
internal static class BenchPipeline
{
    public static async Task<PipelineResult> RunAsync(
        string server, long n, long warmup, int partitions, int window, int? batchSize, int consumers, bool keep, Action<string> say, CancellationToken ct)
    {
        warmup = Math.Clamp(warmup, 0, n / 2);
        say($"pipeline: generating {n:N0} events");
        var (messages, impressions) = Generate(n);

        await using var db = await BenchDatabase.CreateAsync(server, "pipeline", keep, ct);
        // One embedded cluster for every consumer instance (each would otherwise start its own).
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("ad_events", partitions);
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = db.ConnectionString,
            ["Kafka:BootstrapServers"] = cluster.BootstrapServers,
            ["Kafka:Topic"] = "ad_events",
            ["Kafka:ConsumerGroup"] = "bench",
            ["Kafka:SessionTimeoutMs"] = "6000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        // The service's own default unless asked: the bench measures what is deployed.
        if (batchSize is { } b) settings["Kafka:MaxBatchSize"] = b.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Service instances in one consumer group, as they scale out (docs/SCALING.md), here in one process.
        var hosts = new List<IHost>();
        try
        {
            for (var i = 0; i < consumers; i++)
            {
                var builder = Host.CreateApplicationBuilder();
                builder.Configuration.AddInMemoryCollection(settings);
                builder.Logging.ClearProviders();
                builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
                builder.Services.AddAttributionStore(builder.Configuration);
                builder.Services.AddAttributionPipeline(builder.Configuration);
                var host = builder.Build();
                hosts.Add(host);
                await host.StartAsync(ct);
            }

            var states = hosts.Select(h => h.Services.GetRequiredService<ConsumerState>()).ToList();
            // Read from the instances' own counters (the series /metrics exports), summed over the consumer group.
            var appliedCounters = hosts.Select(h => h.Services.GetRequiredService<PipelineMetrics>().EventsApplied).ToArray();
            double Applied()
            {
                var sum = 0d;
                foreach (var c in appliedCounters) sum += c.Value;
                return sum;
            }

            var kafka = hosts[0].Services.GetRequiredService<KafkaConnection>();
            var settledSince = DateTime.MaxValue;
            while (true)
            {
                var split = states.All(s => s.Assigned.Length > 0) && states.Sum(s => s.Assigned.Length) == partitions &&
                            states.SelectMany(s => s.Assigned).Distinct().Count() == partitions;
                if (!split) settledSince = DateTime.MaxValue;
                else if (settledSince == DateTime.MaxValue) settledSince = DateTime.UtcNow;
                else if (DateTime.UtcNow - settledSince > TimeSpan.FromSeconds(consumers > 1 ? 8 : 0)) break;
                await Task.Delay(50, ct);
            }

            say($"pipeline: producing to {partitions} partitions while {consumers} consumer instance(s) apply");
            using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 5,
                CompressionType = CompressionType.Lz4,
                QueueBufferingMaxMessages = 500_000,
            }).Build();
            var peakLag = 0d;
            void Produce(int from, int to)
            {
                for (var i = from; i < to; i++)
                {
                    // Never more than `window` messages ahead of the consumer, so the embedded broker's ~5 MiB per
                    // partition retention can never drop one: the run measures the pipeline, not a lost race.
                    while (i - Applied() > window)
                    {
                        producer.Poll(TimeSpan.FromMilliseconds(5));
                        ct.ThrowIfCancellationRequested();
                    }

                    peakLag = Math.Max(peakLag, i - Applied());
                    while (true)
                    {
                        try
                        {
                            producer.Produce(kafka.Topic, new Message<string, byte[]> { Key = messages[i].Key, Value = messages[i].Value });
                            break;
                        }
                        catch (ProduceException<string, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                        {
                            producer.Poll(TimeSpan.FromMilliseconds(5));
                        }
                    }
                }

                if (producer.Flush(TimeSpan.FromMinutes(2)) > 0) throw new InvalidOperationException("Kafka did not acknowledge every message");
            }

            // When the last event was seen applied: the counter is polled every 20 ms, which bounds the error of a timing.
            var lastAppliedAt = DateTime.MinValue;
            async Task WaitAppliedAsync(Task produce, long from, long count)
            {
                var sw = Stopwatch.StartNew();
                var lastReport = TimeSpan.Zero;
                while (Applied() < count)
                {
                    if (produce.IsFaulted) await produce;
                    await Task.Delay(20, ct);
                    if (sw.Elapsed - lastReport > TimeSpan.FromSeconds(5))
                    {
                        lastReport = sw.Elapsed;
                        say($"pipeline: {Applied():N0} / {count:N0} applied, {(Applied() - from) / sw.Elapsed.TotalSeconds:N0}/s");
                    }

                    if (sw.Elapsed > TimeSpan.FromHours(1)) throw new TimeoutException("the pipeline did not apply every event within an hour");
                }

                lastAppliedAt = DateTime.UtcNow;

                await produce;
            }

            var coldStarted = DateTime.UtcNow;
            if (warmup > 0)
            {
                say($"pipeline: warming up with the first {warmup:N0} events (not timed)");
                await WaitAppliedAsync(Task.Run(() => Produce(0, (int)warmup), ct), 0, warmup);
            }

            var started = DateTime.UtcNow;
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var machineBefore = Machine.CpuTimes();
            var measured = n - warmup;
            var produce = Task.Run(() => Produce((int)warmup, (int)n), ct);
            await WaitAppliedAsync(produce, warmup, n);
            var seconds = (lastAppliedAt - started).TotalSeconds;
            var coldSeconds = (lastAppliedAt - coldStarted).TotalSeconds;
            // This process: the consumer (parse, dedup bookkeeping, fold, COPY encoding) plus the producer feeding it.
            var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds * 1000 / measured;
            var machineAfter = Machine.CpuTimes();
            var busy = 1 - (double)(machineAfter.Idle - machineBefore.Idle) / Math.Max(1, machineAfter.Total - machineBefore.Total);
            foreach (var h in hosts) await h.StopAsync(ct);

            // Valid only if nothing was lost and every event reached Gold: each Gold row's stream_version counts the
            // events folded into it, so their sum must equal the events stored, which must equal N.
            var lost = await db.ScalarAsync("SELECT coalesce(sum(to_offset - from_offset), 0) FROM kafka_lost_messages", ct);
            var stored = await db.ScalarAsync("SELECT count(*) FROM events", ct);
            var folded = await db.ScalarAsync("SELECT coalesce(sum(stream_version), 0) FROM ad_performance_state", ct);
            var goldRows = await db.ScalarAsync("SELECT count(*) FROM ad_performance_state", ct);
            var everyEvent = stored == n && folded == n && goldRows == impressions;
            var rollups = await RollupTablesAsync(db, ct);

            say("pipeline: measuring the PostgreSQL ceiling on the same rows");
            var ceiling = await CeilingAsync(db, n, ct);
            return new PipelineResult(n, impressions, partitions, seconds, measured / seconds, ceiling, lost, everyEvent,
                rollups, peakLag, cpu, busy, consumers, warmup, n / coldSeconds);
        }
        finally
        {
            foreach (var h in hosts)
            {
                await h.StopAsync(CancellationToken.None);
                h.Dispose();
            }
        }
    }

    /// <summary>The funnel as Kafka messages (key impression_id, value the wire JSON), generated before the clock starts.</summary>
    private static (List<(string Key, byte[] Value)> Messages, long Impressions) Generate(long n)
    {
        var model = new TrafficModel(new TrafficOptions { Seed = 7, Campaigns = 20, Users = 200_000 });
        var messages = new List<(string, byte[])>((int)n);
        var start = DateTime.UtcNow.AddHours(-1);
        var impressions = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0L; messages.Count < n; i++)
        {
            foreach (var e in model.Funnel(EventParser.ToMicroseconds(start.AddMilliseconds(i))))
            {
                if (messages.Count == n) break;
                var id = e.Payload[EventFields.ImpressionId]!.GetValue<string>();
                impressions.Add(id);
                messages.Add((id, Encoding.UTF8.GetBytes(e.Payload.ToJsonString())));
            }
        }

        return (messages, impressions.Count);
    }

    private static async Task<string> RollupTablesAsync(BenchDatabase db, CancellationToken ct)
    {
        await using var cmd = db.DataSource.CreateCommand("""
            SELECT coalesce(string_agg(table_name, ', ' ORDER BY table_name), '')
            FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_name LIKE 'metrics\_%' 
            """);
        var tables = (string)(await cmd.ExecuteScalarAsync(ct))!;
        return tables.Length == 0 ? "none yet" : tables;
    }

    private const string EventColumns = "seq_id, id, stream_id, version, data, type, timestamp, tenant_id, mt_dotnet_type, is_archived, headers";

    /// <summary>
    /// The fastest PostgreSQL can store the same rows in Marten's schema: a COPY of the run's <c>mt_streams</c> rows and
    /// of its <c>mt_events</c> rows into empty copies of both tables (indexes, constraints and Marten's foreign key from
    /// each event to its stream included), then one INSERT of the same Gold rows into an empty copy of Gold. Also timed,
    /// for comparison with runs before this ceiling kept Marten's shape: the events alone into a copy without the key.
    /// </summary>
    private static async Task<Ceiling> CeilingAsync(BenchDatabase db, long events, CancellationToken ct)
    {
        await db.ExecAsync("CREATE TABLE bench_ceiling_plain (LIKE mt_events INCLUDING ALL)", ct);
        await db.ExecAsync("CREATE TABLE bench_ceiling_streams (LIKE mt_streams INCLUDING ALL)", ct);
        await db.ExecAsync("CREATE TABLE bench_ceiling_events (LIKE mt_events INCLUDING ALL)", ct);
        await db.ExecAsync("CREATE TABLE bench_ceiling_gold (LIKE ad_performance_state INCLUDING ALL)", ct);
        // LIKE copies no foreign key; Marten's own, pointed at the copy of mt_streams.
        await using (var keys = db.DataSource.CreateCommand(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'mt_events'::regclass AND contype = 'f'"))
        await using (var reader = await keys.ExecuteReaderAsync(ct))
        {
            var definitions = new List<string>();
            while (await reader.ReadAsync(ct)) definitions.Add(reader.GetString(0));
            await reader.CloseAsync();
            foreach (var d in definitions)
                await db.ExecAsync($"ALTER TABLE bench_ceiling_events ADD {d.Replace("REFERENCES mt_streams", "REFERENCES bench_ceiling_streams", StringComparison.Ordinal)}", ct);
        }

        await db.ExecAsync("CHECKPOINT", ct);
        var eventsFile = await ExportAsync(db, $"COPY mt_events ({EventColumns}) TO STDOUT (FORMAT BINARY)", ct);
        var streamsFile = await ExportAsync(db, "COPY mt_streams TO STDOUT (FORMAT BINARY)", ct);
        try
        {
            var plain = await ImportAsync(db, $"COPY bench_ceiling_plain ({EventColumns}) FROM STDIN (FORMAT BINARY)", eventsFile, ct);
            var streams = await ImportAsync(db, "COPY bench_ceiling_streams FROM STDIN (FORMAT BINARY)", streamsFile, ct);
            var copy = await ImportAsync(db, $"COPY bench_ceiling_events ({EventColumns}) FROM STDIN (FORMAT BINARY)", eventsFile, ct);
            var sw = Stopwatch.StartNew();
            await db.ExecAsync("INSERT INTO bench_ceiling_gold SELECT * FROM ad_performance_state", ct);
            return new Ceiling(events, streams, copy, sw.Elapsed.TotalSeconds, plain);
        }
        finally
        {
            File.Delete(eventsFile);
            File.Delete(streamsFile);
        }
    }

    private static async Task<string> ExportAsync(BenchDatabase db, string copyTo, CancellationToken ct)
    {
        var file = Path.Combine(Path.GetTempPath(), $"attribution-bench-{Guid.NewGuid():N}.copy");
        await using var conn = await db.DataSource.OpenConnectionAsync(ct);
        await using var output = File.Create(file);
        await using var export = await conn.BeginRawBinaryCopyAsync(copyTo, ct);
        await export.CopyToAsync(output, ct);
        return file;
    }

    private static async Task<double> ImportAsync(BenchDatabase db, string copyFrom, string file, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        await using var conn = await db.DataSource.OpenConnectionAsync(ct);
        await using var input = File.OpenRead(file);
        await using (var import = await conn.BeginRawBinaryCopyAsync(copyFrom, ct))
        {
            await input.CopyToAsync(import, ct);
        }

        return sw.Elapsed.TotalSeconds;
    }
}

/// <summary>The PostgreSQL ceiling of one run, in Marten's schema, and the former definition (events without their
/// streams and foreign key) beside it.</summary>
internal sealed record Ceiling(long Events, double StreamsCopySeconds, double EventsCopySeconds, double GoldInsertSeconds, double PlainEventsCopySeconds)
{
    public double EventsPerSecond => Events / (StreamsCopySeconds + EventsCopySeconds + GoldInsertSeconds);

    public double PlainEventsPerSecond => Events / (PlainEventsCopySeconds + GoldInsertSeconds);
}
