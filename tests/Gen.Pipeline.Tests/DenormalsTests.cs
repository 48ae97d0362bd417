// Flush-to-zero through libtorch's exported at::Context::setFlushDenormal (Gen.Pipeline.Denormals).
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests;

public sealed class DenormalsTests
{
    [Fact]
    public void FlushToZero_ProductBelowFloatMin_BecomesZero()
    {
        // Checked on a fresh thread: MXCSR flags belong to a thread, so the test does not depend on
        // (or change) the state of the test runner's thread.
        float before = 0, after = 0;
        bool on = false;
        var t = new Thread(() =>
        {
            using var a = tensor(new[] { 1e-30f });
            using var b = tensor(new[] { 1e-10f });
            using (var p = a * b) before = p.item<float>();   // 1e-40: a float32 subnormal
            on = Denormals.FlushToZero();
            using (var p = a * b) after = p.item<float>();
        });
        t.Start();
        t.Join();
        Assert.True(on, "setFlushDenormal reported that the CPU does not support flush-to-zero");
        Assert.InRange(before, 0.9e-40f, 1.1e-40f);
        Assert.Equal(0f, after);
    }
}
