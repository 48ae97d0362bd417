// Which of ATen's vectorised CPU kernels a Gen process uses. On this project's x86-64 machines (AMD EPYC
// VMs with AVX-512), ATen's AVX-512 SiLU and sigmoid kernels (built on SLEEF's 16-lane expf) run 10–35×
// slower than usual for seconds to minutes at a time, on constant inputs, while every other kernel keeps
// its speed; EDM training spends up to half its time in them then. ATen's AVX2 kernels showed no such
// phase. Gen therefore asks ATen for its AVX2 kernels through ATen's own switch, the ATEN_CPU_CAPABILITY
// environment variable, unless the user has set it. oneDNN (convolutions) and MKL (matmul) choose their
// instruction sets separately and keep AVX-512. docs/platform.md §11 has the measurements
// and the reasoning; the figures are in bench/RESULTS.md "Platform".
using System.Runtime.InteropServices;

namespace Gen.Pipeline;

public static partial class CpuKernels
{
    /// <summary>ATen's switch; it reads it once per process, at the first kernel dispatch.</summary>
    public const string Variable = "ATEN_CPU_CAPABILITY";

    /// <summary>The capability Gen asks for when the user has not set <see cref="Variable"/>.</summary>
    public const string Default = "avx2";

    /// <summary>Whether Gen sets and reads ATen's choice here: Linux x86-64 only (the libc setenv and the
    /// System V return convention this class relies on).</summary>
    public static bool Applies => OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Where this process's choice comes from: the user's ATEN_CPU_CAPABILITY, or Gen's default.</summary>
    public static string Source() =>
        Environment.GetEnvironmentVariable(Variable) is { } user ? $"{Variable}={user}" : $"Gen's default, {Variable}={Default}";

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    // at::get_cpu_capability() returns a std::string; under the x86-64 System V ABI the caller passes the
    // address of the result in the first argument register.
    [LibraryImport("libtorch_cpu", EntryPoint = "_ZN2at18get_cpu_capabilityB5cxx11Ev")]
    private static partial IntPtr GetCpuCapability(IntPtr result);

    /// <summary>
    /// Sets ATEN_CPU_CAPABILITY=avx2 in the native environment (where libtorch's getenv reads it; .NET's
    /// Environment.SetEnvironmentVariable does not reach it on Linux) unless it is already set. Call it
    /// first in a process, before any tensor operation. Linux x86-64 only; elsewhere it does nothing.
    /// </summary>
    public static void Apply()
    {
        if (!Applies) return;
        if (Environment.GetEnvironmentVariable(Variable) is not null) return;   // the user's choice wins
        try
        {
            SetEnv(Variable, Default, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }
    }

    /// <summary>ATen's kernel capability in this process ("AVX2", "AVX512", "DEFAULT"), fixed at its first
    /// kernel dispatch; null off Linux x86-64 or where libtorch does not export the function.</summary>
    public static unsafe string? Capability()
    {
        if (!Applies) return null;
        _ = TorchSharp.torch.get_num_threads();   // make sure TorchSharp has loaded libtorch
        // libstdc++'s std::string: data pointer, length, then a 16-byte inline buffer (or the capacity).
        byte* s = stackalloc byte[32];
        try
        {
            GetCpuCapability((IntPtr)s);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        byte* data = *(byte**)s;
        long length = *(long*)(s + 8);
        // ATen's names are short enough for the inline buffer; a longer one would leak its few bytes.
        if (data == null || length < 0 || length > 64) return null;
        return System.Text.Encoding.ASCII.GetString(data, (int)length);
    }
}
