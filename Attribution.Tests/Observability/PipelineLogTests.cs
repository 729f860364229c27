using System.Text;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Attribution.Projections.Observability;
using Attribution.Projections.Pipeline;
using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using Npgsql;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Observability;

/// <summary>A pipeline failure is logged with the events it concerns, so one log line leads to the messages.</summary>
public sealed class PipelineLogTests
{
    [Fact]
    public async Task A_failing_batch_is_logged_with_its_offsets_and_its_event_and_impression_ids()
    {
        // A database without the schema: every attempt fails with "relation does not exist" and is retried.
        var connectionString = TestPostgres.NewDatabaseName("logs");
        await SchemaMigrator.EnsureDatabaseAsync(connectionString);
        try
        {
            await using var db = NpgsqlDataSource.Create(connectionString);
            var logger = new CapturingLogger();
            var metrics = new PipelineMetrics();
            await using var store = MartenSetup.CreateStore(db);
            var applier = new BatchApplier(db, new EventStoreWriter(store), new AttributionConfigStore(db), metrics, logger);
            var records = new[] { Impression("i-a", "e-a", TimeSpan.Zero), Impression("i-b", "e-b", TimeSpan.Zero) }
                .Select((e, i) => new KafkaRecord(3, 7 + i, null, Encoding.UTF8.GetBytes(e.ToJsonString()), T0)).ToList();
            using var cts = new CancellationTokenSource();
            logger.OnLog = _ => cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => applier.ApplyAsync("g", "ad_events", "c", records, cts.Token));

            var (level, message, scope) = logger.Entries[0];
            Assert.Equal(LogLevel.Warning, level);
            Assert.Contains("failed on attempt 1", message, StringComparison.Ordinal);
            Assert.Equal("ad_events", scope["KafkaTopic"]);
            Assert.Equal("3:7-8", scope["KafkaOffsets"]);
            Assert.Equal("e-a", scope["FirstEventId"]);
            Assert.Equal("e-b", scope["LastEventId"]);
            Assert.Equal("i-a,i-b", scope["ImpressionIds"]);
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }

    private sealed class CapturingLogger : ILogger<BatchApplier>
    {
        private readonly AsyncLocal<IReadOnlyList<KeyValuePair<string, object>>?> _scope = new();

        public List<(LogLevel Level, string Message, Dictionary<string, object?> Scope)> Entries { get; } = [];

        public Action<LogLevel>? OnLog { get; set; }

        public IDisposable BeginScope<TState>(TState state) where TState : notnull
        {
            var previous = _scope.Value;
            _scope.Value = (state as IEnumerable<KeyValuePair<string, object>>)?.ToList();
            return new Pop(() => _scope.Value = previous);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            Entries.Add((logLevel, formatter(state, exception), (_scope.Value ?? []).ToDictionary(p => p.Key, p => (object?)p.Value)));
            OnLog?.Invoke(logLevel);
        }

        private sealed class Pop(Action pop) : IDisposable
        {
            public void Dispose() => pop();
        }
    }
}
