using System.Runtime.InteropServices;
using Attribution.Projections.Jobs;

namespace Attribution.Tests.Ops;

/// <summary>
/// What the jobs rely on after every run: chunks freed in the middle of a malloc arena stay resident until
/// <see cref="JobMemory.TrimNativeHeap"/>, which hands their pages back. Residency is read page by page with mincore(2), so the
/// test sees exactly the memory it freed, whatever the other tests running beside it allocate.
/// </summary>
public sealed partial class JobMemoryTests
{
    // Under glibc's smallest mmap threshold (128 KiB), so the chunks come from an arena, and large enough that a freed
    // run of them coalesces into one free chunk instead of sitting in the thread cache.
    private const int ChunkBytes = 16 * 1024;
    private const int Chunks = 1024;

    [Fact]
    public void Trim_hands_back_the_pages_of_chunks_freed_in_the_middle_of_the_heap()
    {
        Assert.True(OperatingSystem.IsLinux(), "the service runs on Linux with glibc");
        (double Before, double After, long? Released) result = default;
        // One thread of its own: the chunks, the fences and the trim all see the same arena.
        var thread = new Thread(() => result = FreeThenTrim());
        thread.Start();
        thread.Join();

        Assert.True(result.Before >= 0.9, $"before the trim {result.Before:P0} of the freed pages were resident; free() alone should keep them");
        Assert.True(result.After <= 0.25, $"after the trim {result.After:P0} of the freed pages were still resident");
        Assert.NotNull(result.Released);
    }

    private static (double Before, double After, long? Released) FreeThenTrim()
    {
        var chunks = new IntPtr[Chunks];
        var fill = new byte[ChunkBytes];
        Array.Fill(fill, (byte)0x5A);
        for (var i = 0; i < chunks.Length; i++)
        {
            chunks[i] = Marshal.AllocHGlobal(ChunkBytes);
            Marshal.Copy(fill, 0, chunks[i], ChunkBytes);
        }

        // Every 64th chunk stays allocated: it fences the freed runs before it off the arena's top, which free()
        // trims by itself, so each run becomes a free chunk in the middle of the heap, as a job's buffers do.
        var freed = chunks.Where((_, i) => i % 64 != 63).ToArray();
        var fences = chunks.Where((_, i) => i % 64 == 63).ToArray();
        try
        {
            foreach (var chunk in freed) Marshal.FreeHGlobal(chunk);
            var before = ResidentShare(freed);
            var released = JobMemory.TrimNativeHeap();
            var after = ResidentShare(freed);
            return (before, after, released);
        }
        finally
        {
            foreach (var fence in fences) Marshal.FreeHGlobal(fence);
        }
    }

    /// <summary>The share of the freed chunks' whole pages that are resident; the first page of each may hold malloc's
    /// bookkeeping for the free chunk, so only pages wholly inside a chunk after its first are counted.</summary>
    private static double ResidentShare(IntPtr[] chunks)
    {
        var page = Environment.SystemPageSize;
        long resident = 0, total = 0;
        var vec = new byte[ChunkBytes / page + 1];
        foreach (var chunk in chunks)
        {
            var start = (chunk + page + page - 1) & ~(nint)(page - 1);
            var end = (chunk + ChunkBytes) & ~(nint)(page - 1);
            if (end <= start) continue;
            var pages = (int)((end - start) / page);
            Assert.Equal(0, Mincore(start, (nuint)(end - start), vec));
            for (var i = 0; i < pages; i++) resident += vec[i] & 1;
            total += pages;
        }

        return total == 0 ? 0 : (double)resident / total;
    }

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    private static partial int Mincore(nint address, nuint length, [Out] byte[] vec);
}
