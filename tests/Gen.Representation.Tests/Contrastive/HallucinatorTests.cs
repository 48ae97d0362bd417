using Gen.Representation.Contrastive;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Contrastive;

public sealed class HallucinatorTests
{
    [Fact]
    public void Extrapolate_LambdaZero_IsAnchor_AndMatchesFloat64()
    {
        Tensor a = randn(4, 8, generator: new Generator(1)), b = randn(4, 8, generator: new Generator(2));
        Assert.True(Hallucinator.Extrapolate(a, b, 0).Same(a));
        Tensor e = Hallucinator.Extrapolate(a, b, 0.05);
        double[] av = a.data<float>().ToArray().Select(x => (double)x).ToArray(), bv = b.data<float>().ToArray().Select(x => (double)x).ToArray();
        float[] ev = e.data<float>().ToArray();
        for (int i = 0; i < av.Length; i++) Assert.Equal(av[i] + 0.05 * (av[i] - bv[i]), ev[i], 1e-5);
    }

    [Fact]
    public void Hallucinate_KeepsShape_AndGradientsReachAnchorPartnerAndG()
    {
        using var g = new Hallucinator(8, new Generator(3));
        Tensor a = randn(5, 8, generator: new Generator(4)).requires_grad_(true);
        Tensor b = randn(5, 8, generator: new Generator(5)).requires_grad_(true);
        Tensor h = g.Hallucinate(a, b, 0.07);
        Assert.Equal(new long[] { 5, 8 }, h.shape);
        h.pow(2).sum().backward();
        Assert.True(a.grad!.abs().sum().item<float>() > 0);
        Assert.True(b.grad!.abs().sum().item<float>() > 0);
        Assert.All(g.parameters(), p => Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0));
        Assert.Equal(10L * 8 * 8, g.MacsPerSample);
    }

    [Fact]
    public void DrawLambda_InRange_AndDeterministic()
    {
        double l1 = Hallucinator.DrawLambda(new Generator(9), 0.1), l2 = Hallucinator.DrawLambda(new Generator(9), 0.1);
        Assert.Equal(l1, l2);
        Assert.InRange(l1, 0, 0.1);
    }
}
