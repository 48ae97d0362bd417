using Gen.Pipeline.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Training;

public sealed class OptimizerTests
{
    // Mirrors optim_fixture() in tests/fixtures/make_pipeline_fixtures.py: five steps with formula
    // gradients, LR multiplied by 0.8 after the first step, compared with torch.optim (PyTorch 1.13).
    [Theory]
    [InlineData("sgd_nesterov", OptimizerKind.Sgd, 0.1, 0.9, true, 0.01)]
    [InlineData("sgd_momentum", OptimizerKind.Sgd, 0.1, 0.9, false, 0.0)]
    [InlineData("sgd_plain", OptimizerKind.Sgd, 0.1, 0.0, false, 0.05)]
    [InlineData("adam", OptimizerKind.Adam, 0.01, 0.0, false, 0.01)]
    [InlineData("adamw", OptimizerKind.AdamW, 0.01, 0.0, false, 0.1)]
    public void FiveSteps_MatchTorchOptim(string name, OptimizerKind kind, double lr, double momentum, bool nesterov, double wd)
    {
        var expected = FixtureTensors.Load("optim.safetensors")[name];
        var p = new Parameter(FixtureTensors.Formula([3, 4], 0.0));
        var cfg = new TrainConfig { Optimizer = kind, Lr = lr, Momentum = momentum, Nesterov = nesterov, WeightDecay = wd };
        using var opt = new Optimizer(cfg, [new ParamGroupSpec("all", [("p", p)])]);
        double stepLr = lr;
        for (int step = 0; step < 5; step++)
        {
            if (step > 0) stepLr *= 0.8;
            p.grad = FixtureTensors.Formula([3, 4], 1.0 + step) * (1.0 + 0.5 * step);
            opt.Step(stepLr);
        }
        FixtureTensors.AssertClose(expected, p, 1e-6, 1e-5);
    }

    [Fact]
    public void State_RoundTrip_ContinuesIdentically()
    {
        var cfg = new TrainConfig { Optimizer = OptimizerKind.Adam, Lr = 0.01 };
        var p1 = new Parameter(FixtureTensors.Formula([5], 0));
        var p2 = new Parameter(FixtureTensors.Formula([5], 0));
        using var o1 = new Optimizer(cfg, [new ParamGroupSpec("g", [("w", p1)])]);
        using var o2 = new Optimizer(cfg, [new ParamGroupSpec("g", [("w", p2)])]);
        for (int s = 0; s < 3; s++) { p1.grad = FixtureTensors.Formula([5], s); o1.Step(0.01); }
        using (no_grad()) p2.copy_(p1);
        o2.LoadState(o1.State, o1.StepCount);
        for (int s = 3; s < 6; s++)
        {
            p1.grad = FixtureTensors.Formula([5], s); o1.Step(0.01);
            p2.grad = FixtureTensors.Formula([5], s); o2.Step(0.01);
        }
        FixtureTensors.AssertClose(p1, p2, 0);
    }

    [Fact]
    public void GroupWithoutWeightDecay_IsNotDecayed()
    {
        var cfg = new TrainConfig { Optimizer = OptimizerKind.Sgd, Momentum = 0, WeightDecay = 0.5 };
        var a = new Parameter(ones(2));
        var b = new Parameter(ones(2));
        using var o = new Optimizer(cfg, [new ParamGroupSpec("decay", [("a", a)]), new ParamGroupSpec("no_decay", [("b", b)], WeightDecay: 0)]);
        a.grad = zeros(2); b.grad = zeros(2);
        o.Step(0.1);
        Assert.Equal(0.95f, a.data<float>()[0], 6);
        Assert.Equal(1f, b.data<float>()[0]);
    }
}
