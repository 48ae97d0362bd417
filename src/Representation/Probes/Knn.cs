// Weighted k-nearest-neighbour classification of frozen features (Wu et al., CVPR 2018, "Instance
// Discrimination", zhirongw/lemniscate.pytorch test.py kNN; defaults k = 200, T = 0.1 from its
// cifar.py call; [lightly] utils/benchmarking/knn.py). Features are L2-normalised; each of a query's
// top-k cosine neighbours s_j adds exp(s_j / T) to its class; the prediction is the arg-max, ties going
// to the lowest class index (torch.argmax returns the first maximum; docs/methods/representation.md D-7). Queries run in chunks of
// 1000 so the similarity matrix stays small.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Representation.Probes;

public sealed record KnnResult(int K, double T, double Top1, double Top5, int Count);

public static class Knn
{
    public const int DefaultK = 200;            // [ID] cifar.py: kNN(..., 200, nce_t = 0.1)
    public const double DefaultT = 0.1;
    public const int AltK = 20;                 // solo-learn WeightedKNNClassifier defaults, reported beside
    public const double AltT = 0.07;
    public const int DefaultChunk = 1000;

    /// <summary>Class votes (queries × classes) of the weighted kNN rule.</summary>
    public static Tensor Votes(Tensor bank, Tensor bankLabels, Tensor queries, int classes, int k, double t, int chunk = DefaultChunk)
    {
        if (k < 1 || k > bank.shape[0]) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} must be in 1..{bank.shape[0]}");
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        Tensor b = nn.functional.normalize(bank, dim: 1);
        Tensor q = nn.functional.normalize(queries, dim: 1);
        Tensor votes = zeros([queries.shape[0], classes], ScalarType.Float32);
        for (long start = 0; start < q.shape[0]; start += chunk)
        {
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            long n = Math.Min(chunk, q.shape[0] - start);
            Tensor sims = q.narrow(0, start, n).matmul(b.t());
            var (vals, idx) = sims.topk(k, dim: 1);
            Tensor neighbourLabels = bankLabels.index_select(0, idx.flatten()).view(n, k);
            Tensor w = (vals / t).exp();
            votes.narrow(0, start, n).scatter_add_(1, neighbourLabels, w);
        }
        return votes.MoveToOuterDisposeScope();
    }

    public static KnnResult Evaluate(Tensor bank, Tensor bankLabels, Tensor queries, Tensor queryLabels, int classes,
                                     int k = DefaultK, double t = DefaultT, int chunk = DefaultChunk)
    {
        using var scope = NewDisposeScope();
        Tensor votes = Votes(bank, bankLabels, queries, classes, k, t, chunk);
        var (top1, top5) = TopK(votes, queryLabels);
        return new KnnResult(k, t, top1, top5, (int)queries.shape[0]);
    }

    /// <summary>Top-1 and top-5 accuracy of scores (N × C) against labels (rows with label &lt; 0 are skipped).</summary>
    public static (double Top1, double Top5) TopK(Tensor scores, Tensor labels)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor valid = labels.ge(0);
        long n = valid.sum().item<long>();
        if (n == 0) return (double.NaN, double.NaN);
        Tensor pred = scores.argmax(1);
        double top1 = (pred.eq(labels) & valid).sum().item<long>() / (double)n;
        int k5 = (int)Math.Min(5, scores.shape[1]);
        Tensor top = scores.topk(k5, dim: 1).indexes;
        double top5 = (top.eq(labels.unsqueeze(1)).any(1) & valid).sum().item<long>() / (double)n;
        return (top1, top5);
    }
}
