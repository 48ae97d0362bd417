// Inception Score: hand values (docs/methods/metrics.md §9) and torch-fidelity's isc_features_to_metric on formula logits.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class InceptionScoreTests
{
    [Fact]
    public void EqualLogits_ScoreOne()
    {
        using var logits = zeros(100, 7);
        var r = InceptionScore.Compute(logits);
        Assert.Equal(1.0, r.Mean, 12);
        Assert.Equal(0.0, r.Std, 12);
    }

    [Fact]
    public void OneHotLogits_ScoreClassCount_AndShuffledMatchesTorchFidelity()
    {
        var v = new double[1000 * 10];
        for (int n = 0; n < 1000; n++) v[n * 10 + n % 10] = 100;
        using var logits = tensor(v, [1000, 10], ScalarType.Float64);
        Assert.Equal(10.0, InceptionScore.Compute(logits, shuffle: false).Mean, 9);
        var r = InceptionScore.Compute(logits);
        Assert.Equal(9.518290440307464, r.Mean, 10);
        Assert.Equal(0.2749751500099656, r.Std, 10);
    }

    [Fact]
    public void SmallModularLogits_MatchHandValues()
    {
        var v = new double[20 * 3];
        for (int n = 0; n < 20; n++) for (int k = 0; k < 3; k++) v[n * 3 + k] = ((7 * n + 3 * k) % 5) / 2.0;
        using var logits = tensor(v, [20, 3], ScalarType.Float64);
        Assert.Equal(1.2068659906759747, InceptionScore.Compute(logits, splits: 2, shuffle: false).Mean, 12);
        var r = InceptionScore.Compute(logits, splits: 2);
        Assert.Equal(1.1999238661816771, r.Mean, 12);
        Assert.Equal(0.0016546510810386827, r.Std, 12);
    }

    [Theory]
    [InlineData("is_n100_k50", 100, 50, 3.0)]
    [InlineData("is_n1234_k1008", 1234, 1008, 4.0)]
    public void FormulaLogits_MatchTorchFidelity(string name, int n, int k, double scale)
    {
        var c = Fixtures.Reference("metrics", name);
        double[] u = Formula.Unit((ulong)c.GetProperty("seed").GetInt32(), (long)n * k);
        using var logits = tensor(u.Select(x => scale * (2.0 * x - 1.0)).ToArray(), [n, k], ScalarType.Float64);
        var r = InceptionScore.Compute(logits);
        var expected = c.GetProperty("shuffled").EnumerateArray().Select(x => x.GetDouble()).ToArray();
        Fixtures.AssertRel(expected[0], r.Mean, 1e-12, "IS mean");
        Fixtures.AssertRel(expected[1], r.Std, 1e-9, "IS std");
        if (c.TryGetProperty("unshuffled", out var un))
            Fixtures.AssertRel(un[0].GetDouble(), InceptionScore.Compute(logits, shuffle: false).Mean, 1e-12, "IS unshuffled");
    }

    [Fact]
    public void FewerImagesThanSplits_IsAnInputError()
    {
        using var logits = zeros(5, 3);
        Assert.Contains("at least 10 images", Assert.Throws<GenInputException>(() => InceptionScore.Compute(logits)).Message);
    }
}
