using Gen.Pipeline.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Models;

public sealed class ConvTests
{
    [Fact]
    public void NarrowConv_MatchesPlainConvolution_ForwardAndGradients()
    {
        var narrow = (NarrowConv2d)Conv.Conv2d(5, 3, 3, stride: 2, padding: 1);
        var (w, b) = Conv.Parameters(narrow);
        using var x = rand(2, 5, 9, 9, generator: new Generator(1)).requires_grad_(true);
        using var y = narrow.call(x);
        using var reference = nn.functional.conv2d(x, w.detach(), b!.detach(), strides: [2, 2], padding: [1, 1]);
        FixtureTensors.AssertClose(reference, y, 1e-5);
        y.pow(2).sum().backward();
        using var x2 = x.detach().clone().requires_grad_(true);
        nn.functional.conv2d(x2, w.detach(), b.detach(), strides: [2, 2], padding: [1, 1]).pow(2).sum().backward();
        FixtureTensors.AssertClose(x2.grad!, x.grad!, 1e-5);
        Assert.Equal(new long[] { 3, 5, 3, 3 }, w.shape);
        Assert.Equal(["bias", "weight"], narrow.state_dict().Keys.Order());
    }

    [Fact]
    public void WideConv_IsThePlainModule() =>
        Assert.IsType<Conv2d>(Conv.Conv2d(4, 16, 3));

    [Fact]
    public void NarrowConv_InputGradients_StayFinite_WithTwoThreads()
    {
        // Regression guard for the oneDNN avx512 backward_data defect described in Models/Conv.cs:
        // a plain 8→8 conv gave NaN input gradients in ~10% of such calls with 2 threads.
        int old = get_num_threads();
        set_num_threads(2);
        try
        {
            var conv = Conv.Conv2d(8, 8, 3, padding: 1, bias: false);
            int bad = 0;
            for (int i = 0; i < 200; i++)
            {
                using var scope = NewDisposeScope();
                var x = randn(32, 8, 12, 12, generator: new Generator((ulong)i)).requires_grad_(true);
                conv.call(x).pow(2).mean().backward();
                if (!x.grad!.isfinite().all().item<bool>()) bad++;
            }
            Assert.Equal(0, bad);
        }
        finally { set_num_threads(old); }
    }
}
