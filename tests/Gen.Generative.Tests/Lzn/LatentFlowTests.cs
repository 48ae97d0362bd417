// The latent flows against facts that hold by construction or were hand-derived
// (docs/methods/lzn.md "Checks"): a single anchor maps to its noise exactly, two symmetric anchors
// split the plane into half-spaces with the half-normal mean √(2/π), the anchor mixture is pushed to
// N(0, I), round trips land on their source anchor, weighted zones have the weights as Gaussian mass,
// the label loss has the right sign, and the velocity agrees with its N×M×d definition.
using Gen.Generative.Lzn;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Lzn;

public sealed class LatentFlowTests
{
    private static Tensor Randn(ulong seed, params long[] shape)
    {
        using var g = new Generator(seed);
        return randn(shape, generator: g);
    }

    [Fact]
    public void Velocity_MatchesItsDefinition_InFloat64()
    {
        using var scope = NewDisposeScope();
        Tensor x = Randn(1, 5, 3), a = Randn(2, 4, 3);
        Tensor logW = tensor(new float[] { 0.1f, 0.2f, 0.3f, 0.4f }).log();
        foreach (double t in new[] { 0.05, 0.5, 0.95 })
        {
            // Σ_j π_j (ε_j − a_j), ε_j = (x − (1−t)a_j)/t, π = softmax(−½‖ε_j‖² + log w_j), all in float64.
            Tensor x64 = x.to_type(ScalarType.Float64), a64 = a.to_type(ScalarType.Float64);
            Tensor eps = x64.unsqueeze(1).sub(a64.unsqueeze(0).mul(1 - t)).div(t);          // N×M×d
            Tensor pi = eps.square().sum(2).mul(-0.5).add(logW.to_type(ScalarType.Float64)).softmax(1);
            Tensor expected = pi.unsqueeze(2).mul(eps.sub(a64.unsqueeze(0))).sum(1);
            Tensor got = LatentFlow.Velocity(x, t, a, logW).to_type(ScalarType.Float64);
            Assert.True(got.sub(expected).abs().max().item<double>() < 1e-4 * (1 + expected.abs().max().item<double>()), $"t = {t}");
        }
    }

    [Fact]
    public void SingleAnchor_LatentIsTheNoise()
    {
        // One anchor: x(t) − a = (x(t0) − a)·t/t0, which Euler reproduces exactly, so x(1) = ε.
        using var scope = NewDisposeScope();
        Tensor a = Randn(3, 1, 8), eps = Randn(4, 200, 8);
        const double t0 = 1e-4;
        Tensor start = LatentFlow.Start(a.expand(200, 8), eps, t0);
        Tensor z = LatentFlow.Forward(start, t0, a, LatentFlow.UniformLogWeights(1), 20, heun: false);
        Assert.True(z.sub(eps).abs().max().item<float>() < 1e-2);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    [InlineData(5.0)]
    public void TwoSymmetricAnchors_HalfSpaceZones_HalfNormalMean(double r)
    {
        // Anchors ±R·e1 with equal weights: +R·e1's zone is the half-plane z1 > 0, and since the mixture
        // is pushed to N(0, I), its latents' z1 follow the half-normal law, mean √(2/π) ≈ 0.798.
        using var scope = NewDisposeScope();
        Tensor anchors = tensor(new float[,] { { (float)r, 0 }, { -(float)r, 0 } });
        const int n = 4000;
        Tensor start = LatentFlow.Start(anchors[0].unsqueeze(0).expand(n, 2), Randn(5, n, 2), 1e-3);
        Tensor z = LatentFlow.Forward(start, 1e-3, anchors, LatentFlow.UniformLogWeights(2), 20, heun: true);
        Tensor z1 = z.select(1, 0);
        Assert.True(z1.gt(0).to_type(ScalarType.Float32).mean().item<float>() >= 0.995f);
        Assert.Equal(Math.Sqrt(2 / Math.PI), z1.mean().item<float>(), 0.03);
    }

    [Fact]
    public void Pushforward_OfTheAnchorMixture_IsStandardNormal()
    {
        using var scope = NewDisposeScope();
        const int k = 10, per = 1000, d = 16;
        Tensor anchors = Randn(6, k, d);
        Tensor sources = anchors.repeat_interleave(per, 0);
        Tensor start = LatentFlow.Start(sources, Randn(7, k * per, d), 1e-3);
        Tensor z = LatentFlow.Forward(start, 1e-3, anchors, LatentFlow.UniformLogWeights(k), 20, heun: true);
        Assert.True(z.mean(new long[] { 0 }).abs().max().item<float>() < 0.06f);
        Tensor variance = z.var(0);
        Assert.True(variance.min().item<float>() > 0.9f && variance.max().item<float>() < 1.1f,
                    $"variances {variance.min().item<float>()}…{variance.max().item<float>()}");
    }

    [Fact]
    public void RoundTrip_HeunForward_ReverseLandsOnTheSourceAnchor()
    {
        // Heun forward (20 steps) then Euler back (50 steps): ≥ 99.5 % end nearest their source anchor.
        // Euler forward with 20 steps leaks across zones (docs/methods/lzn.md measured about 86 %), which
        // is why the image flow uses Heun.
        using var scope = NewDisposeScope();
        const int k = 10, per = 200, d = 16;
        Tensor anchors = Randn(8, k, d);
        Tensor labels = arange(k, ScalarType.Int64).repeat_interleave(per);
        Tensor start = LatentFlow.Start(anchors.index_select(0, labels), Randn(9, k * per, d), 1e-3);
        Tensor logW = LatentFlow.UniformLogWeights(k);
        double Hit(bool heun)
        {
            Tensor z = LatentFlow.Forward(start, 1e-3, anchors, logW, 20, heun);
            var (end, posteriors) = LatentFlow.Reverse(z, 1e-4, anchors, logW, 50);
            Assert.Equal(50, posteriors.Count);
            return LatentFlow.Nearest(end, anchors).eq(labels).to_type(ScalarType.Float32).mean().item<float>();
        }
        double heun = Hit(heun: true), euler = Hit(heun: false);
        Assert.True(heun >= 0.995, $"Heun round trip {heun}");
        Assert.True(euler < heun, $"Euler {euler} vs Heun {heun}");
    }

    [Fact]
    public void WeightedZones_HaveTheWeightsAsGaussianMass()
    {
        using var scope = NewDisposeScope();
        Tensor anchors = Randn(10, 3, 8);
        Tensor logW = tensor(new float[] { 0.5f, 0.3f, 0.2f }).log();
        Tensor z = Randn(11, 20000, 8);
        var (end, _) = LatentFlow.Reverse(z, 1e-4, anchors, logW, 50);
        Tensor counts = LatentFlow.Nearest(end, anchors).bincount(null, 3).to_type(ScalarType.Float32).div(20000);
        float[] mass = counts.data<float>().ToArray();
        Assert.Equal(0.5, mass[0], 0.02);
        Assert.Equal(0.3, mass[1], 0.02);
        Assert.Equal(0.2, mass[2], 0.02);
    }

    [Fact]
    public void LabelLoss_SignFollowsTheZone()
    {
        // Latents made from class y's anchor sit in y's zone (loss near −1); labelled as another class
        // they sit outside it (loss near 0).
        using var scope = NewDisposeScope();
        const int k = 10, per = 50, d = 32;
        Tensor anchors = Randn(12, k, d);
        Tensor labels = arange(k, ScalarType.Int64).repeat_interleave(per);
        Tensor logW = LatentFlow.UniformLogWeights(k);
        Tensor start = LatentFlow.Start(anchors.index_select(0, labels), Randn(13, k * per, d), 1e-4);
        Tensor z = LatentFlow.Forward(start, 1e-4, anchors, logW, 10, heun: true);
        double own = LatentFlow.LabelLoss(z, labels, anchors, logW, 20, 1e-4, 0.2).item<float>();
        double other = LatentFlow.LabelLoss(z, labels.add(1).remainder(k), anchors, logW, 20, 1e-4, 0.2).item<float>();
        Assert.True(own < -0.9, $"own-class loss {own}");
        Assert.True(other > -0.1, $"other-class loss {other}");
    }

    [Fact]
    public void LabelLoss_CutOffIgnoresTheFirstSteps()
    {
        // At t = 1 the posterior is the prior weights: with cut 0 the max can only grow, so the loss is
        // at most the cut one; every value lies in [−1, 0]; absent classes (weight 0) get no mass.
        using var scope = NewDisposeScope();
        Tensor anchors = Randn(14, 4, 6), z = Randn(15, 64, 6);
        Tensor labels = Randn(16, 64).gt(0).to_type(ScalarType.Int64);          // classes 0 and 1 only
        Tensor logW = LatentFlow.LogWeightsFromCounts(labels.bincount(null, 4));
        double cut = LatentFlow.LabelLoss(z, labels, anchors, logW, 20, 1e-4, 0.2).item<float>();
        double all = LatentFlow.LabelLoss(z, labels, anchors, logW, 20, 1e-4, 0.0).item<float>();
        Assert.InRange(cut, -1.0, 0.0);
        Assert.True(all <= cut + 1e-6);
        var (_, posteriors) = LatentFlow.Reverse(z, 1e-4, anchors, logW, 20);
        Assert.All(posteriors, p => Assert.Equal(0f, p.narrow(1, 2, 2).sum().item<float>()));
    }

    [Fact]
    public void Gradients_ReachTheAnchorsThroughTheFlows()
    {
        using var scope = NewDisposeScope();
        Tensor a = Randn(17, 8, 4).requires_grad_(true);
        Tensor c = Randn(18, 3, 4).requires_grad_(true);
        Tensor z = LatentFlow.Forward(LatentFlow.Start(a, Randn(19, 8, 4), 1e-3), 1e-3, a, LatentFlow.UniformLogWeights(8), 5, heun: true);
        Tensor labels = tensor(new long[] { 0, 1, 2, 0, 1, 2, 0, 1 });
        Tensor loss = LatentFlow.LabelLoss(z, labels, c, LatentFlow.UniformLogWeights(3), 10, 1e-4, 0.2);
        loss.backward();
        Assert.True(float.IsFinite(loss.item<float>()));
        Assert.True(a.grad!.abs().sum().item<float>() > 0 && a.grad.isfinite().all().item<bool>());
        Assert.True(c.grad!.abs().sum().item<float>() > 0 && c.grad.isfinite().all().item<bool>());
    }

    [Fact]
    public void RectifiedFlow_EndpointsAndOracleEuler()
    {
        using var scope = NewDisposeScope();
        Tensor x0 = Randn(20, 3, 1, 4, 4), x1 = Randn(21, 3, 1, 4, 4);
        Assert.True(LznCore.Interpolate(x0, x1, ones(3)).sub(x1).abs().max().item<float>() == 0);
        Assert.True(LznCore.Interpolate(x0, x1, zeros(3)).sub(x0).abs().max().item<float>() == 0);
        // The oracle velocity x1 − x0 is constant along the straight path: one Euler step from t = 0 lands on x1.
        Tensor end = LznCore.Euler((_, _) => x1.sub(x0), x0, 0.0, 1);
        Assert.True(end.sub(x1).abs().max().item<float>() < 1e-6f);
    }
}
