// PGD (Gen.Pipeline.Classifier.Pgd), docs/methods/jem-at.md §5: the iterate stays in
// its ball and in [0,1]; for a linear softmax model (CE convex in x) the L∞ loss does not decrease
// step by step; for a binary linear logit with the box inactive PGD reaches the closed-form optimum,
// a logit drop of ε·‖w‖₁ (L∞) or ε·‖w‖₂ (L2).
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Models;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Models;

public sealed class PgdTests
{
    private static nn.Module<Tensor, Tensor> RandomCnn()
    {
        using var g = new Generator(3);
        var conv = Conv.Conv2d(1, 16, 3, padding: 1);
        var (w, b) = Conv.Parameters(conv);
        Init.DefaultUniform(w, b, g);
        var fc = nn.Linear(16 * 8 * 8, 5);
        Init.DefaultUniform(fc.weight!, fc.bias, g);
        return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), fc);
    }

    private static Tensor Inputs(int n = 6, ulong seed = 5)
    {
        using var g = new Generator(seed);
        return rand([n, 1, 8, 8], generator: g).mul(0.6).add(0.2);   // U[0.2, 0.8]
    }

    [Theory]
    [InlineData(Threat.Linf, 0.1)]
    [InlineData(Threat.L2, 1.0)]
    public void Iterate_StaysInBallAndBox(Threat threat, double eps)
    {
        using var scope = NewDisposeScope();
        var net = RandomCnn();
        Tensor x = Inputs(), y = tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        Tensor adv = Pgd.Run(net.call, x, y, new PgdAttack(threat, eps, 20, PgdAttack.DefaultStepSize(eps, 20)));
        Tensor delta = adv.sub(x);
        if (threat == Threat.Linf) Assert.True(delta.abs().max().item<float>() <= eps + 1e-6);
        else
        {
            float[] norms = delta.flatten(1).norm(1, false, 2).data<float>().ToArray();
            Assert.All(norms, n => Assert.True(n <= eps + 1e-5, $"‖δ‖₂ = {n}"));
            Assert.Contains(norms, n => n > 0.5 * eps);   // it moved
        }
        Assert.True(adv.min().item<float>() >= 0 && adv.max().item<float>() <= 1);
        Assert.True(delta.abs().max().item<float>() > 0);
    }

    [Fact]
    public void UnboundedAscent_OnlyClamps()
    {
        using var scope = NewDisposeScope();
        var net = RandomCnn();
        Tensor x = Inputs(), y = tensor(new long[] { 0, 1, 2, 3, 4, 0 });
        var a = new PgdAttack(Threat.L2, double.PositiveInfinity, 30, 1.0) { Objective = PgdObjective.ClassLogit };
        Tensor adv = Pgd.Run(net.call, x, y, a);
        // 30 unit steps go far beyond any ε a ball would allow; the box still holds.
        Assert.True(adv.sub(x).flatten(1).norm(1, false, 2).max().item<float>() > 2.0);
        Assert.True(adv.min().item<float>() >= 0 && adv.max().item<float>() <= 1);
        // The ascent raised the target logit of every image.
        using var _ = no_grad();
        Tensor before = net.call(x).gather(1, y.reshape(-1, 1)), after = net.call(adv).gather(1, y.reshape(-1, 1));
        Assert.True(after.sub(before).min().item<float>() > 0);
    }

    [Fact]
    public void LinearSoftmax_LinfLoss_NonDecreasingStepByStep()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(11);
        var lin = nn.Linear(64, 4);
        Init.DefaultUniform(lin.weight!, lin.bias, g);
        Func<Tensor, Tensor> f = x => lin.call(x.flatten(1));
        Tensor x = Inputs(8, 9), y = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        double previous = double.NegativeInfinity;
        for (int k = 0; k <= 12; k++)
        {
            Tensor adv = Pgd.Run(f, x, y, new PgdAttack(Threat.Linf, 0.1, k, 0.02));
            double loss;
            using (no_grad()) loss = nn.functional.cross_entropy(f(adv), y).item<float>();
            Assert.True(loss >= previous - 1e-6, $"step {k}: loss {loss} < {previous}");
            previous = loss;
        }
    }

    [Theory]
    [InlineData(Threat.Linf, 0.01)]
    [InlineData(Threat.L2, 0.1)]
    public void BinaryLinearLogit_ReachesClosedFormOptimum(Threat threat, double eps)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(4);
        Tensor w = randn([16], generator: g);
        // Two classes with logits [0, w·x]; attacking label 1 maximises softplus(−w·x), i.e. lowers w·x.
        Func<Tensor, Tensor> f = x => stack([zeros(x.shape[0]), x.flatten(1).matmul(w)], 1);
        Tensor x = full([1, 1, 4, 4], 0.5f), y = tensor(new long[] { 1 });
        Tensor adv = Pgd.Run(f, x, y, new PgdAttack(threat, eps, 10, eps / 4));
        double drop = x.flatten(1).matmul(w).sub(adv.flatten(1).matmul(w)).item<float>();
        double expected = threat == Threat.Linf ? eps * w.abs().sum().item<float>() : eps * w.norm().item<float>();
        Assert.Equal(expected, drop, 1e-4);
    }

    [Fact]
    public void BadAttack_OneLineErrors()
    {
        Assert.Throws<GenInputException>(() => new PgdAttack(Threat.L2, 0, 10, 0.1).Validate());
        Assert.Throws<GenInputException>(() => new PgdAttack(Threat.L2, -1, 10, 0.1).Validate());
        Assert.Throws<GenInputException>(() => PgdAttack.ParseThreat("l3"));
        Assert.Equal(Threat.Linf, PgdAttack.ParseThreat("linf"));
    }
}
