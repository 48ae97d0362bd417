// Flush-to-zero for float denormals on the CPU (libtorch's at::Context::setFlushDenormal, the function
// behind torch.set_flush_denormal). Measured (docs/platform.md §8; figures in bench/RESULTS.md "Platform"): EDM training on this CPU
// slowed from 1.8 to 3.3 s per step once the UNet left its near-zero initialisation (step ~80), with no
// subnormal value in weights or optimizer state: the subnormals arise inside the step (activations and
// gradients), where each one costs a microcode assist. TorchSharp 0.107 does not bind the function, so it
// is called through its exported C++ symbols. The x86 MXCSR flags it sets are per thread and inherited by
// threads created later (POSIX: a new thread inherits the floating-point environment), so every command
// calls it first, before its first tensor operation makes libtorch start the intra-op pool: set after
// that, only the calling thread flushes and a 2-thread training slowed again (1.1 → 1.75 s per step).
using System.Runtime.InteropServices;

namespace Gen.Pipeline;

public static partial class Denormals
{
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at7Context16setFlushDenormalEb")]
    [return: MarshalAs(UnmanagedType.U1)]
    private static partial bool SetFlushDenormal(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool on);

    /// <summary>Turns flush-to-zero / denormals-are-zero on for the calling thread (and threads it
    /// creates later). Returns false where the CPU does not support it. GEN_KEEP_DENORMALS=1 leaves them on.</summary>
    public static bool FlushToZero()
    {
        if (Environment.GetEnvironmentVariable("GEN_KEEP_DENORMALS") == "1") return false;
        _ = TorchSharp.torch.get_num_threads();   // make sure TorchSharp has loaded libtorch
        return SetFlushDenormal(GlobalContext(), true);
    }

    /// <summary>The start of every command that computes: flush-to-zero, then the intra-op thread count
    /// (0 = libtorch's default).</summary>
    public static void Configure(int threads)
    {
        FlushToZero();
        if (threads > 0) TorchSharp.torch.set_num_threads(threads);
    }
}
