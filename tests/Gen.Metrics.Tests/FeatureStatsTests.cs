// Streaming statistics: pytorch-fid's own hand test, agreement with the two-pass covariance, bounds.
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class FeatureStatsTests
{
    /// <summary>pytorch-fid tests' stand-in network: the per-channel mean of the [0,1] image.</summary>
    private sealed class MeanPool : IFeatureExtractor
    {
        public ExtractorInfo Info { get; } = new()
        {
            Kind = ExtractorKind.Inception, Network = "mean pool", Layer = "mean", Dims = 3, WeightsSha256 = "-",
            StandardWeights = false, Preprocessing = "/255",
        };

        public Tensor Features(Tensor images) => images.to_type(ScalarType.Float32).div(255).expand(-1, 3, -1, -1).mean([2, 3]);

        public void Dispose() { }
    }

    [Fact]
    public void FlatImages_0_127_255_GivePytorchFidsStatistics()
    {
        // pytorch-fid tests/test_fid_score.py test_compute_statistics_of_path: μ ≈ 0.5, Σ = 0.25·ones(3,3).
        var px = new byte[3 * 16];
        for (int i = 0; i < 16; i++) { px[i] = 0; px[16 + i] = 127; px[32 + i] = 255; }
        var set = new ImageSet("flat", px, [-1, -1, -1], 1, 4, 4, [], "test");
        GaussianStats s = FeatureRunner.Stats(new MeanPool(), new ImageSetSource(set), 2);
        foreach (double m in s.Mu) Assert.Equal(0.5, m, 2);
        foreach (double v in s.Sigma) Assert.Equal(0.25, v, 3);
        Assert.Equal(3, s.Count);
    }

    [Fact]
    public void Streaming_EqualsTwoPassCovariance_EvenWithALargeMean()
    {
        // Features with mean 1e4 and unit spread: the naive Σxxᵀ − nμμᵀ would lose ~8 digits.
        using var g = new Generator(5);
        using var x = randn([300, 8], dtype: ScalarType.Float64, generator: g).add_(1e4);
        using var s = new FeatureStats(8);
        for (int i = 0; i < 300; i += 64) s.Add(x.narrow(0, i, Math.Min(64, 300 - i)));
        GaussianStats r = s.Result();
        using var xc = x - x.mean([0]);
        double[] expected = (xc.t().mm(xc) / 299).data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], r.Sigma[i], 10);
        Assert.Equal(x.mean([0]).data<double>().ToArray(), r.Mu, new Comparer(1e-10));
    }

    private sealed class Comparer(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double v) => 0;
    }

    [Fact]
    public void FewerThanTwoImages_IsRefused()
    {
        using var s = new FeatureStats(4);
        using var one = ones(1, 4);
        s.Add(one);
        Assert.Contains("at least 2 images", Assert.Throws<GenInputException>(() => s.Result()).Message);
    }
}
