using System.Text;
using Attribution.Projections.Ingest;
using Microsoft.Extensions.Logging.Abstractions;

namespace Attribution.Tests.Ingest;

public sealed class EventSpoolTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("spool-test-");

    public void Dispose() => _dir.Delete(recursive: true);

    private EventSpool Open(long maxBytes = 64L << 20) => EventSpool.Open(_dir.FullName, maxBytes, NullLogger.Instance);

    private static SpooledRecord Record(int i) => new($"imp-{i % 7}", Encoding.UTF8.GetBytes($"{{\"event_id\":\"e-{i}\"}}"));

    private static async Task<List<(long Address, SpoolEntry Entry)>> ReadAllAsync(EventSpool spool)
    {
        var entries = new List<(long, SpoolEntry)>();
        using var iterator = spool.Read(spool.BeginAddress);
        while (iterator.GetNext(out var bytes, out var length, out var address))
            entries.Add((address, SpoolEntryFormat.Decode(bytes.AsSpan(0, length))));
        return await Task.FromResult(entries);
    }

    private static List<string> Values(IEnumerable<(long, SpoolEntry Entry)> entries) =>
        entries.SelectMany(e => e.Entry.Records).Select(r => Encoding.UTF8.GetString(r.Value)).ToList();

    [Fact]
    public async Task Appended_records_are_read_back_in_order_with_their_keys_after_the_spool_is_reopened()
    {
        await using (var spool = Open())
        {
            await spool.AppendAsync([Record(1), Record(2)], CancellationToken.None);
            await spool.AppendAsync([new SpooledRecord(null, [1, 2, 3])], CancellationToken.None);
        }

        await using var reopened = Open();
        var entries = await ReadAllAsync(reopened);

        Assert.Equal(2, entries.Count);
        Assert.Equal(["imp-1", "imp-2"], entries[0].Entry.Records.Select(r => r.Key));
        Assert.Equal(["{\"event_id\":\"e-1\"}", "{\"event_id\":\"e-2\"}"], entries[0].Entry.Records.Select(r => Encoding.UTF8.GetString(r.Value)));
        Assert.Null(entries[1].Entry.Records.Single().Key);
        Assert.Equal(new byte[] { 1, 2, 3 }, entries[1].Entry.Records.Single().Value);
        Assert.True(reopened.CommittedUntilAddress >= reopened.TailAddress, "everything read back was committed");
    }

    [Fact]
    public async Task Concurrent_appends_each_return_once_on_disk_and_every_record_is_there_once()
    {
        await using (var spool = Open())
        {
            var writers = Enumerable.Range(0, 32).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    var end = await spool.AppendAsync([Record(w * 1000 + i)], CancellationToken.None);
                    Assert.True(spool.CommittedUntilAddress >= end);
                }
            }));
            await Task.WhenAll(writers);
        }

        await using var reopened = Open();
        var values = Values(await ReadAllAsync(reopened));
        var expected = Enumerable.Range(0, 32).SelectMany(w => Enumerable.Range(0, 50).Select(i => $"{{\"event_id\":\"e-{w * 1000 + i}\"}}"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), values.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_batch_larger_than_an_entry_is_split_and_comes_back_whole_in_order()
    {
        var big = Enumerable.Range(0, 5000).Select(i => new SpooledRecord($"imp-{i}", new byte[1000])).ToList();
        big[4999] = new SpooledRecord("last", Encoding.UTF8.GetBytes("the last one"));
        await using var spool = Open();

        await spool.AppendAsync(big, CancellationToken.None);

        var entries = await ReadAllAsync(spool);
        Assert.True(entries.Count >= 3, $"5 MB in entries of at most {EventSpool.MaxEntryBytes} bytes: {entries.Count} entries");
        var records = entries.SelectMany(e => e.Entry.Records).ToList();
        Assert.Equal(big.Select(r => r.Key), records.Select(r => r.Key));
        Assert.Equal("the last one", Encoding.UTF8.GetString(records[^1].Value));
    }

    [Fact]
    public async Task A_spool_at_its_limit_refuses_an_append_and_keeps_what_it_holds()
    {
        await using var spool = Open(maxBytes: 4096);
        var held = new List<SpooledRecord>();
        var refused = false;
        for (var i = 0; i < 1000 && !refused; i++)
        {
            try
            {
                await spool.AppendAsync([Record(i)], CancellationToken.None);
                held.Add(Record(i));
            }
            catch (SpoolUnavailableException e)
            {
                Assert.Contains("Ingest:SpoolMaxBytes", e.Message, StringComparison.Ordinal);
                refused = true;
            }
        }

        Assert.True(refused, "a 4 KiB spool took a thousand appends");
        Assert.True(spool.SizeBytes <= 4096, $"{spool.SizeBytes} bytes held");
        Assert.Equal(held.Select(r => Encoding.UTF8.GetString(r.Value)), Values(await ReadAllAsync(spool)));
    }

    [Fact]
    public async Task Truncated_entries_stay_gone_after_the_spool_is_reopened()
    {
        long cut;
        await using (var spool = Open())
        {
            await spool.AppendAsync([Record(1)], CancellationToken.None);
            cut = await spool.AppendAsync([Record(2)], CancellationToken.None);
            await spool.AppendAsync([Record(3)], CancellationToken.None);
            await spool.TruncateUntilAsync(cut, CancellationToken.None);
            Assert.Equal(["{\"event_id\":\"e-3\"}"], Values(await ReadAllAsync(spool)));
        }

        await using var reopened = Open();
        Assert.Equal(cut, reopened.BeginAddress);
        Assert.Equal(["{\"event_id\":\"e-3\"}"], Values(await ReadAllAsync(reopened)));
    }

    [Fact]
    public async Task A_spool_over_several_segment_files_deletes_whole_files_once_truncated_and_reads_the_rest_after_reopening()
    {
        static SpooledRecord Large(int i) => new($"imp-{i}", Encoding.UTF8.GetBytes($"{{\"event_id\":\"e-{i}\",\"pad\":\"{new string('x', 60_000)}\"}}"));
        const int Records = 700; // ~42 MiB: three 16 MiB segment files
        var cuts = new long[Records];
        await using (var spool = Open())
        {
            for (var i = 0; i < Records; i++) cuts[i] = await spool.AppendAsync([Large(i)], CancellationToken.None);
            Assert.True(File.Exists(Path.Combine(_dir.FullName, "spool.log.2")), "the log spans three segment files");
            await spool.TruncateUntilAsync(cuts[399], CancellationToken.None);
            // FasterLog removes segments in the background once the truncation is safe.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (File.Exists(Path.Combine(_dir.FullName, "spool.log.0")) && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.False(File.Exists(Path.Combine(_dir.FullName, "spool.log.0")), "a segment wholly below the cut is deleted");
        }

        await using var reopened = Open();
        Assert.Equal(cuts[399], reopened.BeginAddress);
        var expected = Enumerable.Range(400, Records - 400).Select(i => Encoding.UTF8.GetString(Large(i).Value));
        Assert.Equal(expected, Values(await ReadAllAsync(reopened)));
        await reopened.AppendAsync([Record(1)], CancellationToken.None);
        Assert.Equal("{\"event_id\":\"e-1\"}", Values(await ReadAllAsync(reopened))[^1]);
    }

    [Fact]
    public async Task A_spool_written_with_another_geometry_is_refused_rather_than_read_as_empty()
    {
        await using (var spool = Open())
        {
            await spool.AppendAsync([Record(1)], CancellationToken.None);
        }

        File.WriteAllText(Path.Combine(_dir.FullName, "spool.json"), """{"SegmentSizeBits":30,"PageSizeBits":22}""");

        var e = Assert.Throws<InvalidOperationException>(() => Open());
        Assert.Contains("SegmentSizeBits = 30", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_larger_than_an_entry_is_refused_and_nothing_of_its_batch_is_spooled()
    {
        await using var spool = Open();

        await Assert.ThrowsAsync<ArgumentException>(async () =>
            await spool.AppendAsync([Record(1), new SpooledRecord("huge", new byte[EventSpool.MaxEntryBytes])], CancellationToken.None));

        Assert.Empty(await ReadAllAsync(spool));
    }
}
