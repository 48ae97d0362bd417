// EDM preconditioning and loss weight against the hand values of docs/methods/diffusion.md §5.1.
using Gen.Generative.Diffusion;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class EdmPrecondTests
{
    [Theory]
    [InlineData(0.5, 0.5, 0.353553, 1.414214, -0.173287, 8)]
    [InlineData(1.0, 0.2, 0.447214, 0.894427, 0.0, 5)]
    public void Coefficients_SigmaData05_MatchHandValues(double sigma, double cSkip, double cOut, double cIn, double cNoise, double lambda)
    {
        var c = EdmCoefficients.At(sigma, 0.5);
        Assert.Multiple(
            () => Assert.Equal(cSkip, c.CSkip, 6),
            () => Assert.Equal(cOut, c.COut, 6),
            () => Assert.Equal(cIn, c.CIn, 6),
            () => Assert.Equal(cNoise, c.CNoise, 6),
            () => Assert.Equal(lambda, c.LossWeight, 9));
    }

    [Fact]
    public void Coefficients_Sigma80_MatchHandValues()
    {
        var c = EdmCoefficients.At(80, 0.5);
        Assert.Equal(3.9e-5, c.CSkip, 6);
        Assert.Equal(0.499990, c.COut, 6);
        Assert.Equal(0.0124999, c.CIn, 2e-7); // exactly 1/√6400.25 = 0.01249976 (docs/methods/diffusion.md §5.1 rounds to 0.0124999)
    }

    [Fact]
    public void LossWeight_Tensor_EqualsScalarFormula()
    {
        using Tensor s = tensor(new[] { 0.5, 1.0, 80.0 });
        using Tensor w = EdmLoss.Weight(s, 0.5);
        var v = w.data<double>().ToArray();
        Assert.Equal(8, v[0], 9);
        Assert.Equal(5, v[1], 9);
        Assert.Equal(EdmCoefficients.At(80, 0.5).LossWeight, v[2], 9);
    }

    [Fact]
    public void Denoise_ZeroNetwork_ReturnsCSkipTimesX()
    {
        // With F ≡ 0 (all weights zero) D(x;σ) = c_skip·x exactly.
        var cfg = Tiny.Config();
        using var g = new Generator(1);
        using var m = new DiffusionModel(cfg, g);
        using (no_grad()) foreach (var p in m.Net.parameters()) p.zero_();
        using Tensor x = randn([2, 1, 8, 8], ScalarType.Float64, generator: g);
        using Tensor sigma = tensor(new[] { 0.5, 1.0 });
        using Tensor d = m.Precond.Denoise(x, sigma, null);
        Assert.Equal(ScalarType.Float64, d.dtype);
        using Tensor expect = x.mul(tensor(new[] { 0.5, 0.2 }).reshape(-1, 1, 1, 1));
        Assert.True(d.allclose(expect, rtol: 1e-12, atol: 1e-12));
    }
}
