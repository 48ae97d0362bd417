// k-nearest-neighbour manifold metrics of generated features against real ones (docs/methods/metrics.md
// §13):
//  * precision and recall, Kynkäänniemi et al. 2019 ("Improved Precision and Recall Metric for Assessing
//    Generative Models"; kynkaat/improved-precision-and-recall-metric): each point of a set gets the
//    radius of its k-th nearest neighbour in that set (itself excluded); precision is the fraction of
//    fake samples within (≤) the radius of some real point, recall the fraction of real samples within
//    (≤) the radius of some fake point. k = 3.
//  * density and coverage, Naeem et al. 2020 ("Reliable Fidelity and Diversity Metrics for Generative
//    Models"; clovaai/generative-evaluation-prdc): with the real radii, density = Σ_fake #{real balls
//    that strictly contain it} / (k·M), coverage = fraction of real points whose ball strictly contains
//    a fake sample. k = 5.
// Each comparison (≤ or <) is its reference's. Distances are Euclidean in float64 (the references'
// sklearn/scipy distances are float64 too), from ‖x‖² + ‖y‖² − 2x·y in row blocks, so an N×M matrix
// is never held: three passes (real×real, fake×fake, real×fake) of at most Block×max(N, M) doubles.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record PrdcResult(double Precision, double Recall, int KPr, double Density, double Coverage, int KDc, long NReal, long NFake);

/// <summary>The per-sample indicators behind the four numbers (what a bootstrap resamples).</summary>
public sealed record PrdcParts(bool[] FakeInReal, double[] FakeBallCount, bool[] RealInFake, bool[] RealCovered, int KPr, int KDc)
{
    public PrdcResult Result() => new(
        FakeInReal.Count(b => b) / (double)FakeInReal.Length,
        RealInFake.Count(b => b) / (double)RealInFake.Length, KPr,
        FakeBallCount.Sum() / ((double)KDc * FakeBallCount.Length),
        RealCovered.Count(b => b) / (double)RealCovered.Length, KDc,
        RealInFake.Length, FakeInReal.Length);
}

public static class Manifold
{
    public const int DefaultKPr = 3;   // Kynkäänniemi et al. 2019
    public const int DefaultKDc = 5;   // Naeem et al. 2020
    private const int Block = 1024;

    public static PrdcResult Compute(Tensor real, Tensor fake, int kPr = DefaultKPr, int kDc = DefaultKDc) =>
        Parts(real, fake, kPr, kDc).Result();

    /// <summary>Per-sample indicators of real (N×d) against fake (M×d) features.</summary>
    public static PrdcParts Parts(Tensor real, Tensor fake, int kPr = DefaultKPr, int kDc = DefaultKDc)
    {
        if (kPr < 1 || kDc < 1) throw new GenInputException($"k must be at least 1 (got {kPr} for precision/recall, {kDc} for density/coverage)");
        if (real.dim() != 2 || fake.dim() != 2 || real.shape[1] != fake.shape[1])
            throw new ArgumentException($"features must be N×d and M×d, got [{string.Join(", ", real.shape)}] and [{string.Join(", ", fake.shape)}]");
        long n = real.shape[0], m = fake.shape[0];
        int kMax = Math.Max(kPr, kDc);
        if (n < kMax + 1) throw new GenInputException($"the k-NN metrics need more than k = {kMax} real images, got {n}; use more images or a smaller k");
        if (m < kPr + 1) throw new GenInputException($"recall needs more than k = {kPr} generated images, got {m}; use more images or a smaller k");

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = real.to_type(ScalarType.Float64), y = fake.to_type(ScalarType.Float64);
        Tensor sx = x.square().sum(1), sy = y.square().sum(1);

        double[][] realRadii = Radii(x, sx, [kPr, kDc]);
        double[] fakeRadii = Radii(y, sy, [kPr])[0];
        Tensor rPr = tensor(realRadii[0]), rDc = tensor(realRadii[1]), fPr = tensor(fakeRadii);

        var fakeInReal = zeros(m, dtype: ScalarType.Bool);
        var ballCount = zeros(m, dtype: ScalarType.Float64);
        var realInFake = new bool[n];
        var realCovered = new bool[n];
        for (long s = 0; s < n; s += Block)
        {
            using var inner = NewDisposeScope();
            long b = Math.Min(Block, n - s);
            Tensor d = Distances(x.narrow(0, s, b), sx.narrow(0, s, b), y, sy);   // b×M
            Tensor rp = rPr.narrow(0, s, b).unsqueeze(1), rd = rDc.narrow(0, s, b).unsqueeze(1);
            fakeInReal.logical_or_(d.le(rp).any(0));
            ballCount.add_(d.lt(rd).sum(0, type: ScalarType.Float64));
            bool[] inFake = d.le(fPr.unsqueeze(0)).any(1).data<bool>().ToArray();
            bool[] covered = d.min(1).values.lt(rDc.narrow(0, s, b)).data<bool>().ToArray();
            inFake.CopyTo(realInFake, s);
            covered.CopyTo(realCovered, s);
        }
        return new PrdcParts(fakeInReal.data<bool>().ToArray(), ballCount.data<double>().ToArray(), realInFake, realCovered, kPr, kDc);
    }

    /// <summary>For each k, the distance of every row to its k-th nearest other row.</summary>
    public static double[][] Radii(Tensor x, Tensor sq, int[] ks)
    {
        long n = x.shape[0];
        int kMax = ks.Max();
        var r = ks.Select(_ => new double[n]).ToArray();
        for (long s = 0; s < n; s += Block)
        {
            using var scope = NewDisposeScope();
            long b = Math.Min(Block, n - s);
            Tensor d = Distances(x.narrow(0, s, b), sq.narrow(0, s, b), x, sq);
            d.diagonal(s).zero_();   // a row's distance to itself, exactly (the expansion leaves rounding there)
            // The k+1 smallest distances of a row include the row itself (≈ 0), so the k-th neighbour is index k.
            Tensor smallest = d.topk(kMax + 1, dim: 1, largest: false, sorted: true).values;
            for (int i = 0; i < ks.Length; i++)
                smallest.select(1, ks[i]).data<double>().ToArray().CopyTo(r[i], s);
        }
        return r;
    }

    /// <summary>Euclidean distances (float64) between the rows of a (with squared norms sa) and of b.</summary>
    private static Tensor Distances(Tensor a, Tensor sa, Tensor b, Tensor sb) =>
        (sa.unsqueeze(1) + sb.unsqueeze(0) - 2 * a.matmul(b.t())).clamp_min(0).sqrt();
}
