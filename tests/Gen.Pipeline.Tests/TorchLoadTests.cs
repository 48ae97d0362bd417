// libtorch must load on Debian 12 (the build's GLIBCXX weak-version patch) and run a backward pass.
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests;

public sealed class TorchLoadTests
{
    [Fact]
    public void Libtorch_Loads_AndBackwardMatchesHandGradient()
    {
        using var x = tensor(new float[] { 1, -2, 3 }, requires_grad: true);
        using var y = (x * x * x).sum();   // d/dx x³ = 3x²
        y.backward();
        Assert.Equal(new float[] { 3, 12, 27 }, x.grad!.data<float>().ToArray());
    }

    [Fact]
    public void ConvLinearCrossEntropy_BackwardGivesFiniteGradients()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(1, 4, 3, padding: 1);
        var fc = nn.Linear(4 * 8 * 8, 3);
        var x = randn(2, 1, 8, 8, generator: new Generator(1));
        var loss = nn.functional.cross_entropy(fc.call(nn.functional.relu(conv.call(x)).flatten(1)), tensor(new long[] { 0, 2 }));
        loss.backward();
        Assert.True(conv.weight!.grad!.isfinite().all().item<bool>());
        Assert.True(loss.item<float>() > 0);
    }

    [Fact]
    public void OutputFolder_HasPatchedLibraryAndNoFallbackCopy()
    {
        string dir = AppContext.BaseDirectory;
        Assert.True(File.Exists(Path.Combine(dir, "libLibTorchSharp.so")), "the RID-specific output should hold libLibTorchSharp.so");
        // A cpu/ folder appears when TorchSharp failed to load once and copied its natives there.
        Assert.False(Directory.Exists(Path.Combine(dir, "cpu")));
    }
}
