// LARS and fixed-LR groups of the Optimizer (representation learning, docs/methods/representation.md §2.3).
using Gen.Pipeline.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Training;

public sealed class LarsTests
{
    // Mirrors tests/fixtures/make_lars_fixture.py: a 3×4 weight (LARS-scaled) and a 1-D bias (excluded),
    // five steps with formula gradients, LR × 0.8 after the first step, against a torch implementation.
    [Theory]
    [InlineData("lars_clip", 0.4, 0.9, 1e-4, 0.02, true, false)]
    [InlineData("lars_noclip_nesterov", 0.1, 0.9, 0.01, 0.02, false, true)]
    [InlineData("lars_bigeta", 0.05, 0.0, 5e-4, 1.0, true, false)]
    public void FiveSteps_MatchTorchReference(string name, double lr, double momentum, double wd, double eta, bool clip, bool nesterov)
    {
        var expected = FixtureTensors.Load("lars.safetensors");
        var w = new Parameter(FixtureTensors.Formula([3, 4], 0.0));
        var b = new Parameter(FixtureTensors.Formula([4], 0.5));
        var cfg = new TrainConfig
        {
            Optimizer = OptimizerKind.Lars, Lr = lr, Momentum = momentum, Nesterov = nesterov, WeightDecay = wd, LarsEta = eta, LarsClip = clip,
        };
        using var opt = new Optimizer(cfg, [new ParamGroupSpec("all", [("w", w), ("b", b)])]);
        double stepLr = lr;
        for (int step = 0; step < 5; step++)
        {
            if (step > 0) stepLr *= 0.8;
            w.grad = FixtureTensors.Formula([3, 4], 1.0 + step) * (1.0 + 0.5 * step);
            b.grad = FixtureTensors.Formula([4], 2.0 + step) * 0.3;
            opt.Step(stepLr);
        }
        FixtureTensors.AssertClose(expected[name + "/w"], w, 1e-6, 1e-5);
        FixtureTensors.AssertClose(expected[name + "/b"], b, 1e-6, 1e-5);
    }

    [Fact]
    public void OneStep_HandValue()
    {
        // docs/methods/representation.md §7 check 7: w = [3,4], g = [.3,.4], wd 0, η .02, lr .4, clip → [2.94, 3.92].
        var w = new Parameter(tensor(new float[] { 3, 4 }, [1, 2]));
        using var opt = new Optimizer(new TrainConfig { Optimizer = OptimizerKind.Lars, WeightDecay = 0, LarsEta = 0.02, LarsClip = true, Momentum = 0.9, Nesterov = false },
                                      [new ParamGroupSpec("all", [("w", w)])]);
        w.grad = tensor(new float[] { 0.3f, 0.4f }, [1, 2]);
        opt.Step(0.4);
        Assert.Equal(2.94f, w.data<float>()[0], 5);
        Assert.Equal(3.92f, w.data<float>()[1], 5);
    }

    [Fact]
    public void FixedLrGroup_IgnoresTheScheduledLr()
    {
        var a = new Parameter(ones(2));
        var b = new Parameter(ones(2));
        var cfg = new TrainConfig { Optimizer = OptimizerKind.Sgd, Momentum = 0, WeightDecay = 0, Lr = 0.5 };
        using var o = new Optimizer(cfg, [new ParamGroupSpec("scheduled", [("a", a)]), new ParamGroupSpec("fixed", [("b", b)], FixedLr: true)]);
        a.grad = ones(2); b.grad = ones(2);
        o.Step(0.1);   // the schedule says 0.1; the fixed group keeps the peak 0.5
        Assert.Equal(0.9f, a.data<float>()[0], 6);
        Assert.Equal(0.5f, b.data<float>()[0], 6);
    }
}
