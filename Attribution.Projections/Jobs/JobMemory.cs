using System.Globalization;
using System.Runtime.InteropServices;

namespace Attribution.Projections.Jobs;

/// <summary>
/// What a job run leaves behind, released when it ends, so the service returns to the memory the pipeline needs
/// between runs (docs/BENCHMARKS.md, Memory).
/// </summary>
public static partial class JobMemory
{
    private static int _noMallocTrim;

    /// <summary>A run's buffers live for the seconds it takes, so they reach generation 2 and would wait there for
    /// minutes until the GC's own gen 2 budget ran out (a sawtooth of ~40 MiB per five minutes in the soaks): a
    /// background collection, which does not pause the pipeline, frees them now. Then the C heap's free pages go back
    /// (<see cref="TrimNativeHeap"/>).</summary>
    public static long? ReleaseAfterRun()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        return TrimNativeHeap();
    }

    /// <summary>
    /// The exports and compaction compress and decompress through zlib, whose per-stream state (a few hundred KiB for
    /// a deflater, one per Parquet page) glibc serves from the arena of whichever pool thread runs the job. Freed,
    /// those chunks stay resident: glibc returns only the top of an arena, and every pool thread's arena keeps its own
    /// high-water mark, so the memory outside the GC heap rose for a quarter of an hour of soak before it levelled off.
    /// malloc_trim releases the free pages in every arena; elsewhere than glibc it is absent and this does nothing.
    /// </summary>
    /// <returns>The resident bytes this gave back (never negative), or null where the C library has no malloc_trim
    /// (not Linux, or not glibc).</returns>
    public static long? TrimNativeHeap()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _noMallocTrim) == 1) return null;
        var before = ResidentBytes();
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _noMallocTrim, 1);
            return null;
        }

        return Math.Max(0, before - ResidentBytes());
    }

    /// <summary>The process's resident set (VmRSS), from /proc/self/statm's second field in pages; Linux only.</summary>
    internal static long ResidentBytes()
    {
        var statm = File.ReadAllText("/proc/self/statm");
        var fields = statm.Split(' ', 3);
        return long.Parse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture) * Environment.SystemPageSize;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
