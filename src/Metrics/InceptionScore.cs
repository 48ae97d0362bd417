// Inception Score (Salimans et al., NeurIPS 2016) as torch-fidelity computes it (torch_fidelity/metric_isc.py
// `isc_features_to_metric` @5e211a9; defaults in defaults.py): the input is the 1008-way `logits_unbiased`
// (pool3 · fcᵀ without the bias), rows shuffled by np.random.RandomState(2020).permutation(N), cast to
// float64; p = softmax, log p = log_softmax; split k of `splits` takes rows [k·N/splits, (k+1)·N/splits)
// (integer division), q = mean p of the split, score_k = exp(mean over rows of Σ_c p (log p − log q));
// the result is the mean and the population std (np.std) of the scores.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record ScoreResult(double Mean, double Std, int Count);

public static class InceptionScore
{
    public const int DefaultSplits = 10;   // torch-fidelity defaults.py isc_splits
    public const uint DefaultSeed = 2020;  // torch-fidelity defaults.py rng_seed

    /// <param name="logits">N×K logits (any float dtype).</param>
    public static ScoreResult Compute(Tensor logits, int splits = DefaultSplits, bool shuffle = true, uint seed = DefaultSeed)
    {
        long n = logits.shape[0];
        if (splits < 1) throw new GenInputException($"--splits must be positive, got {splits}");
        if (n < splits) throw new GenInputException($"the Inception Score with {splits} splits needs at least {splits} images, got {n}");
        using var scope = NewDisposeScope();
        Tensor x = logits.to_type(ScalarType.Float64);
        if (shuffle)
        {
            long[] perm = new NumpyRandom(seed).Permutation((int)n).Select(i => (long)i).ToArray();
            x = x.index_select(0, tensor(perm));
        }
        Tensor p = x.softmax(1);
        Tensor logP = x.log_softmax(1);
        var scores = new double[splits];
        for (int i = 0; i < splits; i++)
        {
            long lo = i * n / splits, hi = (i + 1) * n / splits;
            Tensor pc = p.narrow(0, lo, hi - lo), lc = logP.narrow(0, lo, hi - lo);
            Tensor q = pc.mean([0], keepdim: true);
            scores[i] = Math.Exp((pc * (lc - q.log())).sum(1).mean().item<double>());
        }
        double mean = scores.Average();
        double std = Math.Sqrt(scores.Select(s => (s - mean) * (s - mean)).Average());
        return new ScoreResult(mean, std, (int)n);
    }
}
