// numpy's legacy RandomState as torch-fidelity uses it, against numpy 1.24 (reference.json, docs/methods/metrics.md §9).
namespace Gen.Metrics.Tests;

public sealed class NumpyRandomTests
{
    [Fact]
    public void Seed2020_FirstOutputs_MatchNumpy()
    {
        var r = new NumpyRandom(2020);
        uint[] expected = Fixtures.Reference("metrics", "rng", "u32_2020").EnumerateArray().Select(x => (uint)x.GetUInt64()).ToArray();
        Assert.Equal([4236026720u, 639299976u, 3751189827u, 2669525622u, 2189340355u], expected);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => r.NextUInt32()).ToArray());
    }

    [Fact]
    public void PermutationAndChoice_MatchNumpy()
    {
        Assert.Equal([2, 4, 9, 1, 5, 7, 6, 3, 8, 0], new NumpyRandom(2020).Permutation(10));
        var r = new NumpyRandom(2020);
        Assert.Equal([6, 9, 12, 4, 5], r.Choice(20, 5));
        Assert.Equal([15, 0, 19, 11, 7], r.Choice(20, 5));

        var big = Fixtures.Reference("metrics", "rng", "perm12345_seed7");
        int[] p = new NumpyRandom(7).Permutation(12345);
        Assert.Equal(big.GetProperty("head").EnumerateArray().Select(x => x.GetInt32()), p[..8]);
        Assert.Equal(big.GetProperty("weighted_sum").GetInt64(), p.Select((v, i) => (long)v * i).Sum());

        var rs = new NumpyRandom(2020);
        foreach (var c in Fixtures.Reference("metrics", "rng", "choice5000_1000_x3").EnumerateArray())
        {
            int[] x = rs.Choice(5000, 1000);
            Assert.Equal(c.GetProperty("head").EnumerateArray().Select(v => v.GetInt32()), x[..5]);
            Assert.Equal(c.GetProperty("sum").GetInt64(), x.Sum(v => (long)v));
        }
    }
}
