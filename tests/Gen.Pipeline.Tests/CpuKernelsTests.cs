// ATen's kernel choice (Gen.Pipeline.CpuKernels): the test host calls CpuKernels.Apply() first, as every
// Gen process does, so ATen must report its AVX2 kernels unless the user set ATEN_CPU_CAPABILITY.
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests;

public sealed class CpuKernelsTests
{
    [Fact]
    public void Capability_AfterApply_IsAvx2UnlessTheUserChose()
    {
        using (var x = ones(64)) using (var y = x.sigmoid()) { }   // a kernel dispatch has happened
        string? capability = CpuKernels.Capability();
        if (!CpuKernels.Applies)
        {
            Assert.Null(capability);
            return;
        }
        Assert.NotNull(capability);
        // .NET's view of the environment is the one the process started with: the user's setting, if any.
        string? user = Environment.GetEnvironmentVariable(CpuKernels.Variable);
        string expected = user is not null ? user.ToUpperInvariant() : Avx2.IsSupported ? "AVX2" : "DEFAULT";
        Assert.Equal(expected, capability);
    }

    [Fact]
    public void SiluAndSigmoid_AgreeWithFloat64()
    {
        // The AVX2 kernels are the ones now used for SiLU everywhere; check them against float64 on a range
        // that includes both tails (exp overflow and underflow inside the kernel).
        using var x = linspace(-90, 90, 4001, dtype: ScalarType.Float32);
        using var x64 = x.to(ScalarType.Float64);
        using var sig64 = x64.neg().exp().add(1).reciprocal();
        using var sig = x.sigmoid();
        using var silu = nn.functional.silu(x);
        Assert.True(sig.to(ScalarType.Float64).allclose(sig64, rtol: 1e-6, atol: 1e-7), "sigmoid differs from float64");
        Assert.True(silu.to(ScalarType.Float64).allclose(x64.mul(sig64), rtol: 1e-6, atol: 1e-6), "SiLU differs from float64");
    }
}
