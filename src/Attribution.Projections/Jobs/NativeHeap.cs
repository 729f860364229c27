using System.Globalization;
using System.Runtime.InteropServices;

namespace Attribution.Projections.Jobs;

/// <summary>
/// Gives the C heap's free pages back to the system after a job. The exports and compaction compress and decompress
/// through zlib, whose per-stream state (~300 KiB for a deflater, one per Parquet page) glibc serves from the arena of
/// whichever pool thread runs the job. Freed, those chunks stay resident: glibc returns only the top of an arena, and
/// every pool thread's arena keeps its own high-water mark, so the service's memory outside the GC heap rose for a
/// quarter of an hour of soak before it levelled off (docs/BENCHMARKS.md, Memory). malloc_trim releases the free pages
/// in every arena; elsewhere than glibc it is absent and this does nothing.
/// </summary>
public static partial class NativeHeap
{
    /// <summary>What a job run leaves behind, released: its buffers lived for the seconds the run took, so they
    /// were promoted to generation 2 and would wait there for minutes until the GC's own gen 2 budget ran out (a
    /// sawtooth of ~40 MiB per five minutes in the soaks); a background collection, which does not pause the
    /// pipeline, frees them now. Then the C heap's free pages go back (<see cref="Trim"/>).</summary>
    public static long? ReleaseAfterJob()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: false);
        return Trim();
    }

    private static int _unsupported;

    /// <summary>Releases the free pages of every malloc arena; returns the resident bytes this gave back (never
    /// negative), or null where the C library has no malloc_trim (not Linux, or not glibc).</summary>
    public static long? Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _unsupported) == 1) return null;
        var before = ResidentBytes();
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _unsupported, 1);
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
