using Gen.Representation.Probes;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Probes;

public sealed class LinearProbeTests
{
    [Fact]
    public void Fit_SeparableToyFeatures_Reaches100Percent()
    {
        // Three classes around well-separated centres in 5-d (docs/methods/representation.md §7 check 9).
        var g = new Generator(11);
        Tensor Make(int n, out Tensor y)
        {
            y = arange(n, ScalarType.Int64).remainder(3);
            Tensor centres = tensor(new float[] { 4, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 4, 0, 0 }, [3, 5]);
            return centres.index_select(0, y) + randn(n, 5, generator: g) * 0.3;
        }
        Tensor xs = Make(300, out Tensor ys), xt = Make(90, out Tensor yt);
        var r = LinearProbe.Fit(xs, ys, xt, yt, 3, new LinearProbeOptions { Epochs = 5, Batch = 32 });
        Assert.Equal(1.0, r.Top1);
        Assert.Equal(1.0, r.TrainTop1);
        Assert.Equal(1.0, r.Top5);
    }

    [Fact]
    public void Fit_SameSeed_SameResult()
    {
        var g = new Generator(12);
        Tensor x = randn(200, 4, generator: g), y = randint(0, 3, [200], generator: g);
        var a = LinearProbe.Fit(x, y, x, y, 3, new LinearProbeOptions { Epochs = 3, Batch = 32, Seed = 1 });
        var b = LinearProbe.Fit(x, y, x, y, 3, new LinearProbeOptions { Epochs = 3, Batch = 32, Seed = 1 });
        Assert.Equal(a, b);
    }
}
