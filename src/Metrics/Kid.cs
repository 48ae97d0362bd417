// Kernel Inception Distance (Bińkowski et al., ICLR 2018, arXiv 1801.01401) with torch-fidelity's estimator
// (torch_fidelity/metric_kid.py @5e211a9, after mbinkowski/MMD-GAN compute_scores.py): polynomial kernel
// k(x, y) = (γ xᵀy + 1)³ with γ = 1/d; for each of `subsets` draws, rows choice(n₁, m) then choice(n₂, m)
// (without replacement) from one np.random.RandomState(2020); unbiased
//   MMD²ᵤ = [Σ_{i≠j} Kxx + Σ_{i≠j} Kyy] / (m(m−1)) − 2 Σ Kxy / m²;
// KID = mean and population std over the subsets. torch-fidelity evaluates the kernels in float32 (its
// features are float32 numpy arrays); Gen uses float64, so results differ in the last digits (docs/methods/metrics.md §6).
// Negative values are legal: they mean the two sets are closer than the estimator's noise.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public static class Kid
{
    public const int DefaultSubsets = 100;      // torch-fidelity defaults.py kid_subsets
    public const int DefaultSubsetSize = 1000;  // torch-fidelity defaults.py kid_subset_size

    /// <param name="f1">n₁×d features.</param>
    /// <param name="f2">n₂×d features.</param>
    public static ScoreResult Compute(Tensor f1, Tensor f2, int subsets = DefaultSubsets, int subsetSize = DefaultSubsetSize,
                                      uint seed = InceptionScore.DefaultSeed, IProgress<int>? progress = null)
    {
        long n1 = f1.shape[0], n2 = f2.shape[0], d = f1.shape[1];
        if (f2.shape[1] != d) throw new GenInputException($"the two feature sets have different dimensions ({d} and {f2.shape[1]})");
        if (subsets < 1) throw new GenInputException($"--subsets must be positive, got {subsets}");
        if (subsetSize < 2) throw new GenInputException($"--subset-size must be at least 2, got {subsetSize}");
        if (n1 < subsetSize || n2 < subsetSize)
            throw new GenInputException($"KID subset size {subsetSize} is larger than a set (first: {n1} images, second: {n2}); lower --subset-size or use more images");
        var rng = new NumpyRandom(seed);
        double gamma = 1.0 / d;
        var mmds = new double[subsets];
        using var x1 = f1.to_type(ScalarType.Float64);
        using var x2 = f2.to_type(ScalarType.Float64);
        for (int s = 0; s < subsets; s++)
        {
            long[] i1 = rng.Choice((int)n1, subsetSize).Select(i => (long)i).ToArray();
            long[] i2 = rng.Choice((int)n2, subsetSize).Select(i => (long)i).ToArray();
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            Tensor a = x1.index_select(0, tensor(i1)), b = x2.index_select(0, tensor(i2));
            Tensor Kernel(Tensor x, Tensor y) => x.mm(y.t()).mul_(gamma).add_(1).pow_(3);
            mmds[s] = Mmd2Unbiased(Kernel(a, a), Kernel(a, b), Kernel(b, b));
            progress?.Report(s + 1);
        }
        double mean = mmds.Average();
        double std = Math.Sqrt(mmds.Select(v => (v - mean) * (v - mean)).Average());
        return new ScoreResult(mean, std, subsetSize);
    }

    /// <summary>torch-fidelity's `mmd2(..., mmd_est="unbiased")`.</summary>
    public static double Mmd2Unbiased(Tensor kxx, Tensor kxy, Tensor kyy)
    {
        long m = kxx.shape[0];
        double ktxx = (kxx.sum() - kxx.diagonal().sum()).item<double>();
        double ktyy = (kyy.sum() - kyy.diagonal().sum()).item<double>();
        double kxySum = kxy.sum().item<double>();
        return (ktxx + ktyy) / (m * (m - 1.0)) - 2 * kxySum / ((double)m * m);
    }
}
