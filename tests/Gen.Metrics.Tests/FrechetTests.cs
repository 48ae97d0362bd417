// Fréchet distance: hand values (docs/methods/metrics.md §9), pytorch-fid's own test, and scipy.linalg.sqrtm results on
// exact formula covariances from make_inception_fixtures.py.
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class FrechetTests
{
    private static GaussianStats G(double[] mu, double[] sigma) => new(mu, sigma, 0);

    private static GaussianStats StatsOf(double[] f, int n, int d)
    {
        using var s = new FeatureStats(d);
        using var t = tensor(f, [n, d], ScalarType.Float64);
        // Streamed in uneven batches, as extraction does.
        for (int start = 0; start < n; start += 37) s.Add(t.narrow(0, start, Math.Min(37, n - start)));
        return s.Result();
    }

    [Fact]
    public void TwoByTwo_EqualMeans_MatchesClosedForm()
    {
        // Σ1 = [[2,1],[1,2]], Σ2 = diag(1,4): 9 − 2√(10 + 4√3).
        var r = Frechet.Distance(G([0, 0], [2, 1, 1, 2]), G([0, 0], [1, 0, 0, 4]));
        Assert.Equal(9 - 2 * Math.Sqrt(10 + 4 * Math.Sqrt(3)), r.Distance, 12);
        Assert.Equal(0.7712204476543416, r.Distance, 12);
    }

    [Fact]
    public void IdentityCovariances_GiveSquaredMeanDistance()
    {
        // pytorch-fid tests/test_fid_score.py: d = 2048, μ1 = 0, μ2 = 1, Σ = I → exactly 2048.
        const int d = 2048;
        var eye = new double[d * d];
        for (int i = 0; i < d; i++) eye[i * d + i] = 1;
        var r = Frechet.Distance(G(new double[d], eye), G(Enumerable.Repeat(1.0, d).ToArray(), eye));
        Assert.Equal(2048, r.Distance, 8);
    }

    [Fact]
    public void Householder64_InverseAndScaled_MatchClosedForms()
    {
        // Q = I − 2vvᵀ/vᵀv (v_i = i), λ_i = 1 + (i−1)/8, A = QΛQᵀ: FID(A, A⁻¹) = Σ(λ + 1/λ − 2); FID((0,A),(0.5·1, 4A)) = 16 + tr A.
        const int d = 64;
        var v = Enumerable.Range(1, d).Select(i => (double)i).ToArray();
        double vv = v.Sum(x => x * x);
        var lambda = Enumerable.Range(1, d).Select(i => 1 + (i - 1) / 8.0).ToArray();
        double[] Make(Func<double, double> f)
        {
            var m = new double[d * d];
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                {
                    double s = 0;
                    for (int k = 0; k < d; k++)
                    {
                        double qik = (i == k ? 1 : 0) - 2 * v[i] * v[k] / vv, qjk = (j == k ? 1 : 0) - 2 * v[j] * v[k] / vv;
                        s += qik * f(lambda[k]) * qjk;
                    }
                    m[i * d + j] = s;
                }
            return m;
        }
        double[] a = Make(l => l), aInv = Make(l => 1 / l), a4 = Make(l => 4 * l);
        Assert.Equal(206.03251297458547, Frechet.Distance(G(new double[d], a), G(new double[d], aInv)).Distance, 9);
        Assert.Equal(332, Frechet.Distance(G(new double[d], a), G(Enumerable.Repeat(0.5, d).ToArray(), a4)).Distance, 9);
    }

    [Theory]
    [InlineData("fid_d64_n500", 1e-9)]
    [InlineData("fid_d128_n1000", 1e-9)]
    [InlineData("fid_d64_n30", 1e-5)]   // n < d: singular covariances; scipy's root carries an imaginary part
    public void FormulaFeatures_MatchPytorchFidWithScipySqrtm(string name, double rel)
    {
        var c = Fixtures.Reference("metrics", name);
        int n = c.GetProperty("n").GetInt32(), d = c.GetProperty("d").GetInt32();
        GaussianStats s1 = StatsOf(Formula.Features((ulong)c.GetProperty("seed1").GetInt32(), n, d, 0), n, d);
        GaussianStats s2 = StatsOf(Formula.Features((ulong)c.GetProperty("seed2").GetInt32(), n, d, 1), n, d);
        Fixtures.AssertRel(c.GetProperty("sum_mu1").GetDouble(), s1.Mu.Sum(), 1e-12, "Σμ");
        Fixtures.AssertRel(c.GetProperty("trace_sigma1").GetDouble(), Enumerable.Range(0, d).Sum(i => s1.Sigma[i * d + i]), 1e-11, "tr Σ");
        Fixtures.AssertRel(c.GetProperty("sum_sigma1").GetDouble(), s1.Sigma.Sum(), 1e-10, "ΣΣ");
        Fixtures.AssertRel(c.GetProperty("sigma1_3_5").GetDouble(), s1.Sigma[3 * d + 5], 1e-9, "Σ[3,5]");
        FrechetResult r = Frechet.Distance(s1, s2);
        Fixtures.AssertRel(c.GetProperty("trace_sqrt").GetDouble(), r.TraceSqrt, rel, "tr√(Σ1Σ2)");
        Fixtures.AssertRel(c.GetProperty("fid").GetDouble(), r.Distance, rel, "FID");
        Assert.Equal(c.GetProperty("fallback").GetBoolean(), r.EpsFallback);
    }

    [Fact]
    public void ScipySqrtmTraces_AgreeTo1e9()
    {
        foreach (var c in Fixtures.Reference("metrics", "sqrtm").EnumerateArray())
        {
            int seed = c.GetProperty("seed").GetInt32(), d = c.GetProperty("d").GetInt32(), n = c.GetProperty("n").GetInt32();
            using var scope = NewDisposeScope();
            Tensor Cov(double[] f)
            {
                Tensor x = tensor(f, [n, d], ScalarType.Float64);
                Tensor xc = x - x.mean([0]);
                return xc.t().mm(xc) / (n - 1);
            }
            var (tr, _) = Frechet.TraceSqrtProduct(Cov(Formula.Features((ulong)seed, n, d, 0)), Cov(Formula.Features((ulong)seed + 100, n, d, 1)));
            Fixtures.AssertRel(c.GetProperty("trace_sqrt").GetDouble(), tr, 1e-9, $"sqrtm d={d}");
        }
    }

    [Fact]
    public void IdenticalSets_GiveZero()
    {
        GaussianStats s = StatsOf(Formula.Features(17, 500, 64, 0), 500, 64);
        double trace = Enumerable.Range(0, 64).Sum(i => s.Sigma[i * 64 + i]);
        double fid = Frechet.Distance(s, s).Distance;
        Assert.True(Math.Abs(fid) <= 1e-8 * trace, $"FID(A, A) = {fid:G3}");
        Assert.True(Math.Abs(Fixtures.Number("metrics", "fid_identical_d64_n500")) <= 1e-8 * trace);
    }

    [Fact]
    public void MismatchedDimensions_AndIndefiniteCovariance_AreInputErrors()
    {
        var e = Assert.Throws<GenInputException>(() => Frechet.Distance(G([0, 0], [1, 0, 0, 1]), G([0], [1])));
        Assert.Contains("different dimensions", e.Message);
        // A "covariance" with eigenvalue −1: its root would be imaginary, as pytorch-fid refuses.
        var bad = Assert.Throws<GenInputException>(() => Frechet.Distance(G([0, 0], [1, 0, 0, 1]), G([0, 0], [1, 0, 0, -1])));
        Assert.Contains("imaginary component", bad.Message);
    }
}
