// libtorch allocates each activation with malloc. With glibc's defaults, blocks above the dynamic
// mmap threshold are mmap'ed and unmapped on every free, so every batch pays fresh page faults
// (measured: evaluating 10k Fashion-MNIST images took 70 s wall with 57 s of it in the kernel).
// Serving all blocks from the heap (M_MMAP_MAX = 0) and not trimming it (M_TRIM_THRESHOLD high)
// cut that to 12 s (2.9 s system time), same results; see docs/platform.md §7 and bench/RESULTS.md. The heap then stays at
// its peak, which is flat for a training loop. This is the CPU counterpart of PyTorch's advice to
// run CPU training under jemalloc/tcmalloc; it needs no extra library.
using System.Runtime.InteropServices;

namespace Gen.Pipeline;

public static partial class MallocTuning
{
    private const int M_TRIM_THRESHOLD = -1; // glibc malloc.h
    private const int M_MMAP_MAX = -4;

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdBlks, SmBlks, HBlks, HBlkHd, UsmBlks, FsmBlks, UordBlks, FordBlks, KeepCost;
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 MallInfo();

    /// <summary>glibc's heap in MB: bytes obtained from the system (heap + mmap'ed blocks), in use, and free inside
    /// the heap; null off glibc. A diagnostic for memory that grows (GEN_MALLOC_TRACE).</summary>
    public static (double System, double InUse, double Free)? Heap()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            MallInfo2 m = MallInfo();
            const double MB = 1 << 20;
            return ((m.Arena + m.HBlkHd) / MB, (m.UordBlks + m.HBlkHd) / MB, m.FordBlks / MB);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>GEN_MALLOC_TRACE=K: diagnostic loops log the heap every K iterations (0 = off).</summary>
    public static readonly int TraceEvery = int.TryParse(Environment.GetEnvironmentVariable("GEN_MALLOC_TRACE"), out int k) ? k : 0;

    /// <summary>Writes one malloc-trace line to stderr (RSS and glibc's heap: obtained, in use, free) tagged with where the loop is.</summary>
    public static void Trace(string position)
    {
        if (Heap() is { } h)
            Console.Error.WriteLine($"malloc-trace {position} rss_mb={Environment.WorkingSet >> 20} heap_mb={h.System:F0} in_use_mb={h.InUse:F0} free_mb={h.Free:F0}");
    }

    /// <summary>
    /// Returns the heap's free pages to the system (glibc malloc_trim: the top of the heap and, with
    /// madvise, free pages inside it). For loops whose allocation sizes vary from one iteration to the
    /// next (bootstrap replicates): there the untrimmed heap fragments and grows while the memory in
    /// use stays flat (measured with GEN_MALLOC_TRACE; docs/platform.md §7). No-op off glibc.
    /// </summary>
    public static void Trim()
    {
        if (!OperatingSystem.IsLinux()) return;
        try { MallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>Applies the settings once per process on glibc Linux; returns whether they took effect.</summary>
    public static bool Apply()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GEN_MALLOC_DEFAULTS") == "1") return false;
        try
        {
            return Mallopt(M_MMAP_MAX, 0) == 1 & Mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // musl or another libc: keep its defaults
        }
    }
}
