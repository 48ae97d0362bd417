// Precision/recall (≤, Kynkäänniemi et al.) and density/coverage (<, Naeem et al.): a 1-D case worked
// by hand (with a tie on a radius, where the two comparisons differ), the fixtures of
// tests/fixtures/make_prdc_fixtures.py (numpy/scipy, exact float64 distances), and the errors.
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class ManifoldTests
{
    [Fact]
    public void OneDimensional_HandValues()
    {
        // real 0,1,2,3,6,10: 1-NN radii 1,1,1,1,3,4. fake 0.5,2.5,14,20: 1-NN radii 2,2,6,6.
        // precision (≤): 0.5, 2.5 and 14 (|14−10| = 4 = r(10), a tie) are inside; 20 is not → 3/4.
        // recall (≤): every real point but 6 (3.5 > 2 and 8 > 6) is inside a fake ball → 5/6.
        // density (<): 0.5 is in the balls of 0 and 1, 2.5 in those of 2 and 3, 14 in none (4 < 4 fails) → 4/(1·4) = 1.
        // coverage (<): 0,1,2,3 have a fake sample inside their ball; 6 (3.5 ≥ 3) and 10 (4 ≥ 4) do not → 4/6.
        using var real = tensor(new double[] { 0, 1, 2, 3, 6, 10 }, [6, 1]);
        using var fake = tensor(new double[] { 0.5, 2.5, 14, 20 }, [4, 1]);
        PrdcResult r = Manifold.Compute(real, fake, kPr: 1, kDc: 1);
        Assert.Equal(0.75, r.Precision, 15);
        Assert.Equal(5.0 / 6, r.Recall, 15);
        Assert.Equal(1.0, r.Density, 15);
        Assert.Equal(4.0 / 6, r.Coverage, 15);
        Assert.Equal((6L, 4L), (r.NReal, r.NFake));
    }

    [Fact]
    public void IdenticalSets_FullPrecisionRecallCoverage()
    {
        using var x = randn([200, 8], generator: new Generator(3));
        PrdcResult r = Manifold.Compute(x, x.clone());
        Assert.Equal(1.0, r.Precision);
        Assert.Equal(1.0, r.Recall);
        Assert.Equal(1.0, r.Coverage);   // each real point's ball holds its own copy (distance 0 < radius)
        Assert.True(r.Density > 0.9, $"density {r.Density}");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("b")]
    public void MatchesReferenceDefinitions(string name)
    {
        var arrays = Npz.Read(Path.Combine(AppContext.BaseDirectory, "fixtures", "metrics", "prdc.npz"));
        using var real = Tensor(arrays["real"]);
        using var fake = Tensor(arrays[$"fake_{name}"]);
        double[] expected = arrays[$"prdc_{name}"].Data;
        PrdcResult r = Manifold.Compute(real, fake);
        Assert.Equal(expected, new[] { r.Precision, r.Recall, r.Density, r.Coverage }, new Close(1e-12));
        double[] other = arrays[$"prdc_{name}_k7_k2"].Data;
        PrdcResult r2 = Manifold.Compute(real, fake, kPr: 7, kDc: 2);
        Assert.Equal(other, new[] { r2.Precision, r2.Recall, r2.Density, r2.Coverage }, new Close(1e-12));
        // float32 features (what extractors give) agree too: the distances are computed in float64 either way.
        using var real32 = real.to_type(ScalarType.Float32);
        using var fake32 = fake.to_type(ScalarType.Float32);
        PrdcResult r3 = Manifold.Compute(real32, fake32);
        Assert.Equal(expected, new[] { r3.Precision, r3.Recall, r3.Density, r3.Coverage }, new Close(0.02));
    }

    [Fact]
    public void TooFewImages_OneLineError()
    {
        using var real = randn([5, 3], generator: new Generator(1));
        using var fake = randn([50, 3], generator: new Generator(2));
        Assert.Contains("more than k = 5 real images", Assert.Throws<GenInputException>(() => Manifold.Compute(real, fake)).Message);
        Assert.Contains("generated images", Assert.Throws<GenInputException>(() => Manifold.Compute(fake, real.narrow(0, 0, 3))).Message);
    }

    private static Tensor Tensor(NpyArray a) => tensor(a.Data, a.Shape);

    private sealed class Close(double tol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(double v) => 0;
    }
}
