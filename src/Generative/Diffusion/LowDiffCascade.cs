// LowDiff cascade operators and bookkeeping (docs/methods/diffusion.md §3.1, §3.5): down = 2×2 average pooling,
// up = nearest ×2, so down(up(x)) = x exactly; the stage vector [one-hot(stage), σ_aug/0.25] that
// tells the unified network its resolution and whether a condition is present; NFE accounting in
// 32²-equivalent passes (conv FLOPs scale with pixels).
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Gen.Generative.Diffusion;

public static class LowDiffCascade
{
    /// <summary>σ_aug is fed to the network divided by this scale (docs/methods/diffusion.md §3.2: σ_aug/0.25).</summary>
    public const double SigmaAugScale = 0.25;

    /// <summary>2×2 average pooling, applied <paramref name="times"/> times.</summary>
    public static Tensor Down(Tensor x, int times = 1)
    {
        if (times == 0) return x.alias();
        using var scope = NewDisposeScope();
        Tensor y = x;
        for (int i = 0; i < times; i++) y = F.avg_pool2d(y, 2);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>Nearest-neighbour ×2 upsampling (repeat_interleave: measured faster on this CPU than
    /// expand + reshape (2×) and interpolate (4×) in fp32, equal to expand + reshape in bf16).</summary>
    public static Tensor Up(Tensor x)
    {
        using var scope = NewDisposeScope();
        return x.repeat_interleave(2, 2).repeat_interleave(2, 3).MoveToOuterDisposeScope();
    }

    /// <summary>Number of ×2 steps between resolution r and the full resolution.</summary>
    public static int Octaves(int r, int full)
    {
        int k = 0;
        while ((r << k) < full) k++;
        return k;
    }

    /// <summary>Stage vectors B×(K+2): one-hot(stage) and σ_aug/0.25 per sample.</summary>
    public static Tensor StageVector(int stage, int stages, Tensor sigmaAug)
    {
        using var scope = NewDisposeScope();
        long b = sigmaAug.shape[0];
        Tensor v = zeros(b, stages + 1, dtype: ScalarType.Float32);
        v[.., stage] = 1;
        v[.., stages] = sigmaAug.to(ScalarType.Float32).div(SigmaAugScale);
        return v.MoveToOuterDisposeScope();
    }

    /// <summary>NFE of each stage for its step count and solver (Heun when none is given), and the 32²-equivalent
    /// total Σ NFE_s·(r_s/R)².</summary>
    public static (int[] Nfe, double FullEquivalent) Cost(int[] resolutions, int[] steps, int fullResolution, bool guided = false,
                                                          SolverKind[]? solvers = null)
    {
        var nfe = steps.Select((n, s) => Solvers.Nfe(solvers?[s] ?? SolverKind.Heun, n)).ToArray();
        double eq = 0;
        for (int s = 0; s < nfe.Length; s++)
        {
            double f = (double)resolutions[s] / fullResolution;
            eq += nfe[s] * f * f * (guided ? 2 : 1);
        }
        return (nfe, eq);
    }
}
