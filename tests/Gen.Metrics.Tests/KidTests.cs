// KID: hand values (docs/methods/metrics.md §9), unbiasedness, and torch-fidelity's estimator on formula features.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class KidTests
{
    [Fact]
    public void ConstantSets_MatchHandValues()
    {
        // x = 0, y = 1, d = 1: Kxx = 1, Kyy = 8, Kxy = 1 → 1 + 8 − 2 = 7.
        using var x = zeros(4, 1, ScalarType.Float64);
        using var y = ones(4, 1, ScalarType.Float64);
        Assert.Equal(7.0, Kid.Compute(x, y, subsets: 3, subsetSize: 4).Mean, 12);
        // {0,1,2} vs {1,2,3} with every subset the whole set: 65/3.
        using var a = tensor(new double[] { 0, 1, 2 }, [3, 1]);
        using var b = tensor(new double[] { 1, 2, 3 }, [3, 1]);
        Assert.Equal(65.0 / 3, Kid.Compute(a, b, subsets: 2, subsetSize: 3).Mean, 10);
    }

    [Fact]
    public void HandFeatures_MatchSpec()
    {
        var f1 = new double[40];
        var f2 = new double[40];
        for (int i = 0; i < 20; i++)
        {
            f1[2 * i] = i / 10.0; f1[2 * i + 1] = (i % 3) / 3.0;
            f2[2 * i] = i / 10.0 + 0.2; f2[2 * i + 1] = (i % 4) / 4.0;
        }
        using var a = tensor(f1, [20, 2]);
        using var b = tensor(f2, [20, 2]);
        var r = Kid.Compute(a, b, subsets: 5, subsetSize: 10);
        Assert.Equal(0.4372285950635746, r.Mean, 10);
        Assert.Equal(1.0741630588067574, r.Std, 10);
    }

    [Fact]
    public void FormulaFeatures_MatchTorchFidelity()
    {
        var c = Fixtures.Reference("metrics", "kid_n60_n70_d16");
        using var a = Formula.FeatureTensor(41, 60, 16, 0);
        using var b = Formula.FeatureTensor(42, 70, 16, 1);
        var r = Kid.Compute(a, b, c.GetProperty("subsets").GetInt32(), c.GetProperty("size").GetInt32());
        var f64 = c.GetProperty("float64").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        var f32 = c.GetProperty("float32").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Fixtures.AssertRel(f64[0], r.Mean, 1e-12, "KID mean");
        Fixtures.AssertRel(f64[1], r.Std, 1e-10, "KID std");
        Fixtures.AssertRel(f32[0], r.Mean, 1e-5, "KID vs torch-fidelity's float32");
    }

    [Fact]
    public void SameDistribution_IsUnbiased()
    {
        using var g = new Generator(3);
        using var x = randn([2000, 16], dtype: ScalarType.Float64, generator: g);
        using var y = randn([2000, 16], dtype: ScalarType.Float64, generator: g);
        var r = Kid.Compute(x, y, subsets: 200, subsetSize: 200);
        Assert.True(Math.Abs(r.Mean) <= 4 * r.Std / Math.Sqrt(200), $"KID {r.Mean:G3} ± {r.Std:G3}");
    }

    [Fact]
    public void SubsetLargerThanSet_IsAnInputError()
    {
        using var x = zeros(10, 2);
        Assert.Contains("--subset-size", Assert.Throws<GenInputException>(() => Kid.Compute(x, x, subsetSize: 11)).Message);
    }
}
