using Gen.Pipeline.Data;

namespace Gen.Pipeline.Tests.Data;

public sealed class BatchOrderTests
{
    [Fact]
    public void Epoch_IsAPermutation_DeterministicPerSeed()
    {
        var a = new BatchOrder(5, 103, 10);
        var seen = Enumerable.Range(0, a.BatchesPerEpoch).SelectMany(s => a.Indices(s)).ToList();
        Assert.Equal(100, seen.Count);                      // drop_last: 3 images left out
        Assert.Equal(100, seen.Distinct().Count());
        Assert.Equal(new BatchOrder(5, 103, 10).Indices(7), a.Indices(7));
        Assert.NotEqual(new BatchOrder(6, 103, 10).Indices(7), a.Indices(7));
    }

    [Fact]
    public void DifferentEpochs_DifferentOrder_SameAfterRestart()
    {
        var a = new BatchOrder(1, 50, 10);
        int[] e0 = a.Indices(0), e1 = a.Indices(5);
        Assert.NotEqual(e0, e1);
        Assert.Equal(e0, new BatchOrder(1, 50, 10).Indices(0));   // a fresh sampler (resume) agrees
        Assert.Equal(1, a.EpochOf(5));
    }

    [Fact]
    public void BatchLargerThanDataset_Refused()
    {
        var e = Assert.Throws<GenInputException>(() => new BatchOrder(0, 5, 8));
        Assert.Contains("--batch", e.Message);
    }

    [Fact]
    public void SplitMix_MatchesReferenceOutput()
    {
        // First outputs of Vigna's splitmix64.c with state 0 (x += 0x9e3779b97f4a7c15 first).
        var s = new SplitMix(0);
        Assert.Equal(0xe220a8397b1dcdafUL, s.Next());
        Assert.Equal(0x6e789e6aa1b965f4UL, s.Next());
    }
}
