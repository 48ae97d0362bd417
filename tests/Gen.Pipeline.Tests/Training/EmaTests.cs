using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Training;

public sealed class EmaTests
{
    [Fact]
    public void Beta_FromHalfLife_MatchesEdmFormula()
    {
        // 0.5^(128/5000) (docs/methods/diffusion.md §5.4); ramp-up caps h at 0.05·images.
        Assert.Equal(0.982412, Ema.Beta(128, 5000, 0, 0), 6);
        Assert.Equal(Math.Pow(0.5, 128.0 / 500), Ema.Beta(128, 5000, 0.05, 10_000), 12);
    }

    [Fact]
    public void Update_AveragesParametersAndCopiesBuffers()
    {
        var model = nn.BatchNorm1d(2);
        using var ema = new Ema(model);
        using (no_grad())
        {
            model.weight!.fill_(3);             // was 1
            model.running_mean!.fill_(5);       // buffer: copied, not averaged
        }
        ema.Update(model, 0.75);
        Assert.Equal(1.5f, ema.State["weight"].data<float>()[0], 6);   // 0.75·1 + 0.25·3
        Assert.Equal(5f, ema.State["running_mean"].data<float>()[0]);
    }
}
