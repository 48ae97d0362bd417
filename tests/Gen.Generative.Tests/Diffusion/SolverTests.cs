// The sampler catalogue on 1-D Gaussian data (std s = 0.5), where the ideal denoiser is D(x;σ) = x·s²/(s²+σ²)
// and the probability-flow ODE maps σ_max·z to z·s·σ_max/√(σ_max²+s²): each ODE solver's error against
// that exact value shrinks with the step count at its order (Euler 1, Heun and DPM-Solver++(2M) 2);
// Euler ancestral reproduces the data distribution; every solver is deterministic by seed.
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class SolverTests
{
    private const double S = 0.5;
    private static readonly double Exact = 80 * S / Math.Sqrt(80 * 80 + S * S);

    private static Tensor Ideal(Tensor x, double sigma) => x.mul(S * S / (S * S + sigma * sigma));

    private static (double Error, int Calls) Run(SolverKind kind, int steps)
    {
        int calls = 0;
        Denoiser d = (x, sigma) => { calls++; return Ideal(x, sigma); };
        double[] t = KarrasSchedule.Sigmas(steps, 0.002, 80, 7);
        using Tensor x0 = full([1, 1, 1, 1], t[0], ScalarType.Float64);
        using Tensor x = Solvers.Sample(kind, d, x0, t);
        return (Math.Abs(x.item<double>() - Exact), calls);
    }

    [Theory]
    [InlineData(SolverKind.Euler, 1.0)]
    [InlineData(SolverKind.Heun, 2.0)]
    [InlineData(SolverKind.DpmPp2M, 2.0)]
    public void OdeSolvers_ErrorShrinksAtTheirOrder(SolverKind kind, double order)
    {
        // Doubling the steps divides the error by about 2^order (asymptotically; measured between N = 40 and 160).
        double e40 = Run(kind, 40).Error, e80 = Run(kind, 80).Error, e160 = Run(kind, 160).Error;
        double rate = Math.Log2(e80 / e160);
        Assert.True(e40 > e80 && e80 > e160, $"{kind}: errors {e40:G3}, {e80:G3}, {e160:G3} do not shrink");
        Assert.InRange(rate, order - 0.35, order + 0.6);
    }

    [Fact]
    public void SecondOrderSolvers_BeatEulerAtEqualSteps()
    {
        // At N = 18 (hand-checked with a float64 recomputation: Euler 0.0770, Heun 0.0276, DPM-Solver++(2M) 0.0311).
        Assert.Equal(0.0770, Run(SolverKind.Euler, 18).Error, 3);
        Assert.Equal(0.0311, Run(SolverKind.DpmPp2M, 18).Error, 3);
        Assert.True(Run(SolverKind.DpmPp2M, 18).Error < Run(SolverKind.Euler, 18).Error / 2);
    }

    /// <summary>Euler ancestral on this data is linear, x' = a·x + σ_up·ε with a = 1 + (1 − c)(σ_down − σ)/σ and
    /// D = c·x, so its output variance follows v' = a²·v + σ_up² exactly from v₀ = σ_max².</summary>
    private static double AncestralVariance(int steps)
    {
        double[] t = KarrasSchedule.Sigmas(steps, 0.002, 80, 7);
        double v = t[0] * t[0];
        for (int i = 0; i < steps; i++)
        {
            double s = t[i], sn = t[i + 1], c = S * S / (S * S + s * s);
            double up = Math.Min(sn, Math.Sqrt(sn * sn * (s * s - sn * sn) / (s * s))), down = Math.Sqrt(sn * sn - up * up);
            double a = 1 + (1 - c) * (down - s) / s;
            v = a * a * v + up * up;
        }
        return v;
    }

    [Theory]
    [InlineData(SolverKind.Heun, 35)]
    [InlineData(SolverKind.Euler, 18)]
    [InlineData(SolverKind.DpmPp2M, 18)]
    public void Calls_MatchTheNfeAccounting(SolverKind kind, int calls)
    {
        Assert.Equal(calls, Run(kind, 18).Calls);
        Assert.Equal(calls, Solvers.Nfe(kind, 18));
    }

    [Fact]
    public void EulerAncestral_HasItsExactVariance_ConvergesToTheData_AndDependsOnSeedsOnly()
    {
        // The ancestral sampler is only first-order in distribution: std 0.4445 at 50 steps (the same recursion in
        // numpy, and a 200,000-sample Monte-Carlo run of the sampler there: 0.4450), → 0.5 as steps grow.
        Assert.Equal(0.4445, Math.Sqrt(AncestralVariance(50)), 4);
        Assert.True(Math.Abs(Math.Sqrt(AncestralVariance(2000)) - S) < 0.002);

        double[] t = KarrasSchedule.Sigmas(50, 0.002, 80, 7);
        Tensor Once(IEnumerable<ulong> seeds)
        {
            var gens = seeds.Select(s => new Generator(s)).ToList();
            try
            {
                using Tensor z = HeunSampler.PerImageNoise(gens, [gens.Count, 1, 1, 1], ScalarType.Float64);
                return Solvers.Sample(SolverKind.EulerAncestral, Ideal, z.mul(t[0]), t, generators: gens);
            }
            finally { foreach (var g in gens) g.Dispose(); }
        }
        using Tensor many = Once(Enumerable.Range(0, 4000).Select(i => (ulong)i));
        Assert.True(Math.Abs(many.mean().item<double>()) < 0.03);
        Assert.True(Math.Abs(many.std().item<double>() - Math.Sqrt(AncestralVariance(50))) < 0.02,   // sampling error of the std ≈ 0.005
                    $"std {many.std().item<double>():F4} against the exact {Math.Sqrt(AncestralVariance(50)):F4}");
        using Tensor alone = Once([7]);
        Assert.Equal(many[7].item<double>(), alone.item<double>());   // image 7 alone = image 7 in the batch
    }

    [Fact]
    public void Parse_Names_And_BadInput()
    {
        Assert.Equal(SolverKind.DpmPp2M, Solvers.Parse("dpmpp-2m"));
        Assert.Equal(["heun", "euler", "dpmpp-2m", "euler-a"], Enum.GetValues<SolverKind>().Select(Solvers.Name));
        Assert.Contains("unknown --sampler", Assert.Throws<GenInputException>(() => Solvers.Parse("ddim")).Message);
        double[] t = KarrasSchedule.Sigmas(4, 0.002, 80, 7);
        using Tensor x = ones([1, 1, 1, 1], ScalarType.Float64);
        var e = Assert.Throws<GenInputException>(() => Solvers.Sample(SolverKind.Euler, Ideal, x, t, new ChurnOptions { SChurn = 1 }));
        Assert.Contains("heun", e.Message);
    }
}

/// <summary>A LowDiff cascade with a different sampler per stage: the stages report their own sampler and NFE.</summary>
public sealed class CascadeSolverTests
{
    [Fact]
    public void PerStageSamplers_CountAndNfe()
    {
        using var g = new Generator(3);
        using var m = new DiffusionModel(Tiny.Config(cascade: [4, 8]), g);
        m.Net.eval();
        var o = new SampleOptions { StageSteps = [5, 3], Samplers = [SolverKind.DpmPp2M, SolverKind.Heun] };
        var (x, stats) = DiffusionSampler.Sample(m, [0, 1], o);
        using (x)
        {
            Assert.Equal(["dpmpp-2m", "heun"], stats.Samplers!);
            Assert.Equal([5, 5], stats.NfePerStage);   // 5 DPM-Solver++ steps, then Heun 2·3 − 1
        }
        Assert.Throws<Gen.Pipeline.GenInputException>(() => DiffusionSampler.Validate(m.Config, o with { Samplers = [SolverKind.Euler, SolverKind.Euler, SolverKind.Euler] }, 1));
    }
}
