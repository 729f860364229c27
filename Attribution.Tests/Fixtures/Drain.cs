using Attribution.Projections.Pipeline;

namespace Attribution.Tests.Fixtures;

public static class Drain
{
    /// <summary>Waits until the consumer has applied everything Kafka holds and at least this many events.</summary>
    public static async Task<PipelineStatus> WaitAsync(PipelineStatusReader reader, long events, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        PipelineStatus status;
        do
        {
            status = await reader.ReadAsync(CancellationToken.None);
            if (status.Lag == 0 && status.EventsApplied >= events && status.Partitions.Sum(p => p.EndOffset) > 0) return status;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        throw new TimeoutException($"pipeline did not drain: lag {status.Lag}, applied {status.EventsApplied} of {events}");
    }
}
