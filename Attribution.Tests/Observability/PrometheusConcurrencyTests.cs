using System.Diagnostics.Metrics;

namespace Attribution.Tests.Observability;

public class PrometheusConcurrencyTests
{
    [Fact]
    public async Task Given_several_threads_recording_while_scrapes_run_when_done_then_every_measurement_is_counted()
    {
        using var f = new CollectorFixture();
        var counter = f.Meter.CreateCounter<long>("work.items");
        var sum = f.Meter.CreateCounter<double>("work.amount");
        var histogram = f.Meter.CreateHistogram<double>("work.duration", "s", null, null, new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 2] });
        const int threads = 4;
        const int perThread = 50_000;
        string[] shards = ["a", "b", "c", "d", "e"];
        using var start = new Barrier(threads + 1);

        var writers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (var i = 0; i < perThread; i++)
                {
                    var shard = new KeyValuePair<string, object?>("shard", shards[(i + t) % shards.Length]);
                    counter.Add(1, shard);
                    // Quarters add exactly in binary floating point, so the expected sum is exact.
                    sum.Add(0.25, shard);
                    histogram.Record(i % 3, shard);
                }
            },
            TaskCreationOptions.LongRunning)).ToArray();

        var scraper = Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                var scrapes = 0;
                while (!writers.All(w => w.IsCompleted))
                {
                    // Scrapes during writes must parse too: counts stay cumulative and _count matches +Inf.
                    PrometheusTextParser.Parse(f.Collector.Collect());
                    scrapes++;
                }

                return scrapes;
            },
            TaskCreationOptions.LongRunning);

        await Task.WhenAll(writers);
        await scraper;
        var scraped = f.Scrape();

        var total = (double)threads * perThread;
        Assert.Equal(total, shards.Sum(s => scraped.Value("work_items_total", ("shard", s))));
        Assert.Equal(total * 0.25, shards.Sum(s => scraped.Value("work_amount_total", ("shard", s))));
        Assert.Equal(total, shards.Sum(s => scraped.Value("work_duration_seconds_count", ("shard", s))));
        var expectedSum = threads * Enumerable.Range(0, perThread).Sum(i => i % 3);
        Assert.Equal(expectedSum, shards.Sum(s => scraped.Value("work_duration_seconds_sum", ("shard", s))));
        var expectedAtMostOne = threads * Enumerable.Range(0, perThread).Count(i => i % 3 <= 1);
        Assert.Equal(expectedAtMostOne, shards.Sum(s => scraped.Value("work_duration_seconds_bucket", ("shard", s), ("le", "1"))));
    }
}
