// Heun on 1-D Gaussian data (std s = 0.5), where the ideal denoiser is D(x;σ) = x·s²/(s²+σ²) and the
// probability-flow ODE maps σ_max·z to z·s·σ_max/√(σ_max²+s²) (docs/methods/diffusion.md §5.3).
using Gen.Generative.Diffusion;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class HeunSamplerTests
{
    private const double S = 0.5;

    private static (double X, int Calls) Run(int steps)
    {
        int calls = 0;
        Denoiser d = (x, sigma) => { calls++; return x.mul(S * S / (S * S + sigma * sigma)); };
        double[] t = KarrasSchedule.Sigmas(steps, 0.002, 80, 7);
        using Tensor x0 = full([1, 1, 1, 1], t[0], ScalarType.Float64);
        using Tensor x = HeunSampler.Sample(d, x0, t);
        return (x.item<double>(), calls);
    }

    [Theory]
    [InlineData(18, 0.527625)]
    [InlineData(10, 0.609798)]
    [InlineData(50, 0.503050)]
    public void Sample_GaussianData_MatchesHandValues(int steps, double expect) =>
        Assert.Equal(expect, Run(steps).X, 6);

    [Fact]
    public void Sample_N18_Calls35Times() => Assert.Equal(35, Run(18).Calls);

    [Fact]
    public void Sample_ManySteps_ConvergesToExactOde()
    {
        double exact = 80 * S / Math.Sqrt(80 * 80 + S * S); // 0.499990
        Assert.Equal(0.499990, exact, 6);
        Assert.True(Math.Abs(Run(400).X - exact) < 2e-4);
    }

    [Fact]
    public void Sample_GaussianBatch_HasDataMoments()
    {
        // 4000 seeds: the output of z ~ N(0,1) must be ≈ N(0, s²) (variance scaled by the N = 50 value).
        Denoiser d = (x, sigma) => x.mul(S * S / (S * S + sigma * sigma));
        double[] t = KarrasSchedule.Sigmas(50, 0.002, 80, 7);
        using var g = new Generator(3);
        using Tensor z = randn([4000, 1, 1, 1], ScalarType.Float64, generator: g);
        using Tensor x = HeunSampler.Sample(d, z.mul(t[0]), t);
        Assert.True(Math.Abs(x.mean().item<double>()) < 0.03);
        Assert.Equal(0.5, x.std().item<double>(), 1);
    }

    [Fact]
    public void Sample_WithChurn_UsesPerImageGenerators()
    {
        Denoiser d = (x, sigma) => x.mul(S * S / (S * S + sigma * sigma));
        double[] t = KarrasSchedule.Sigmas(10, 0.002, 80, 7);
        var churn = new ChurnOptions { SChurn = 10 };
        Tensor Once(params ulong[] seeds)
        {
            var gens = seeds.Select(s => new Generator(s)).ToList();
            using Tensor x0 = full([seeds.Length, 1, 1, 1], t[0], ScalarType.Float64);
            return HeunSampler.Sample(d, x0, t, churn, gens);
        }
        using Tensor both = Once(5, 6), alone = Once(6);
        Assert.Equal(alone.item<double>(), both[1].item<double>());
        Assert.NotEqual(both[0].item<double>(), both[1].item<double>());
    }

    [Fact]
    public void Sample_NaNDenoiser_ThrowsGenInputException()
    {
        Denoiser d = (x, sigma) => x.mul(double.NaN);
        double[] t = KarrasSchedule.Sigmas(4, 0.002, 80, 7);
        using Tensor x0 = full([1, 1, 1, 1], 80.0, ScalarType.Float64);
        var e = Assert.Throws<Gen.Pipeline.GenInputException>(() => HeunSampler.Sample(d, x0, t));
        Assert.Contains("NaN", e.Message);
    }
}
