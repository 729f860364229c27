using System.Diagnostics;
using Attribution.Projections.Observability;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Attribution.Projections.Pipeline;

/// <summary>Writes tracking events to ad_events, keyed by impression_id so an impression's events share a
/// partition. Idempotent with acks=all: an acknowledged write is durable and never duplicated by a retry.</summary>
public sealed class AdEventProducer : IDisposable
{
    private readonly IProducer<string?, byte[]> _producer;
    private readonly KafkaConnection _kafka;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger<AdEventProducer> _logger;

    public AdEventProducer(KafkaConnection kafka, PipelineMetrics metrics, ILogger<AdEventProducer> logger)
    {
        _kafka = kafka;
        _metrics = metrics;
        _logger = logger;
        _producer = new ProducerBuilder<string?, byte[]>(new ProducerConfig
            {
                BootstrapServers = kafka.BootstrapServers,
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 2,
                CompressionType = CompressionType.Lz4,
                MessageTimeoutMs = 30000,
                QueueBufferingMaxMessages = 1_000_000,
            })
            .SetErrorHandler((_, e) => logger.LogWarning("Kafka producer error: {Reason}", e.Reason))
            .Build();
    }

    /// <summary>Returns once Kafka acknowledged every message; throws if any was not.</summary>
    public async Task ProduceAsync(IReadOnlyList<(string? Key, byte[] Value)> messages, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var tasks = new Task[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            tasks[i] = _producer.ProduceAsync(_kafka.Topic, new Message<string?, byte[]> { Key = messages[i].Key, Value = messages[i].Value }, ct);
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch (Exception e)
        {
            var failed = tasks.Count(t => t.IsFaulted || t.IsCanceled);
            _metrics.ProduceFailures.Inc(failed);
            _logger.LogError(e, "Kafka did not acknowledge {Failed} of {Count} events", failed, messages.Count);
            throw;
        }
        finally
        {
            _metrics.ProduceLatency.Observe(sw.Elapsed.TotalSeconds);
        }
    }

    /// <summary>For the pixel, which answers before the acknowledgement: a failure is counted and logged with the
    /// event, never dropped silently.</summary>
    public void Enqueue(string? key, byte[] value, string eventId)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            _producer.Produce(_kafka.Topic, new Message<string?, byte[]> { Key = key, Value = value }, report =>
            {
                _metrics.ProduceLatency.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (report.Error.IsError)
                {
                    _metrics.ProduceFailures.Inc();
                    _logger.LogError("Kafka did not acknowledge event {EventId} (impression {ImpressionId}): {Reason}",
                        eventId, key, report.Error.Reason);
                }
            });
        }
        catch (ProduceException<string?, byte[]> e)
        {
            _metrics.ProduceFailures.Inc();
            _logger.LogError(e, "Kafka refused event {EventId} (impression {ImpressionId})", eventId, key);
            throw;
        }
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(10));
        _producer.Dispose();
    }
}
