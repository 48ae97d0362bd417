using Gen.Representation.Probes;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Probes;

public sealed class KnnTests
{
    // docs/methods/representation.md §7 check 5: bank (1,0)/0, (.8,.6)/1, (.6,.8)/1, (−1,0)/0; query (1,0), k = 3.
    private static readonly Tensor Bank = tensor(new float[] { 1, 0, 0.8f, 0.6f, 0.6f, 0.8f, -1, 0 }, [4, 2]);
    private static readonly Tensor BankLabels = tensor(new long[] { 0, 1, 1, 0 });
    private static readonly Tensor Query = tensor(new float[] { 1, 0 }, [1, 2]);

    [Fact]
    public void Votes_LowTemperature_NearestWins()
    {
        Tensor v = Knn.Votes(Bank, BankLabels, Query, 2, k: 3, t: 0.1);
        Assert.Equal(22026.47, v[0, 0].item<float>(), 0.05);
        Assert.Equal(Math.Exp(8) + Math.Exp(6), v[0, 1].item<float>(), 0.05);
        Assert.Equal(0, v.argmax(1).item<long>());
    }

    [Fact]
    public void Votes_HighTemperature_MajorityWins()
    {
        Tensor v = Knn.Votes(Bank, BankLabels, Query, 2, k: 3, t: 1.0);
        Assert.Equal(Math.E, v[0, 0].item<float>(), 1e-3);
        Assert.Equal(Math.Exp(0.8) + Math.Exp(0.6), v[0, 1].item<float>(), 1e-3);
        Assert.Equal(1, v.argmax(1).item<long>());
    }

    [Fact]
    public void Votes_Chunked_EqualsUnchunked()
    {
        var g = new Generator(7);
        Tensor bank = randn(50, 6, generator: g), labels = randint(0, 4, [50], generator: g);
        Tensor q = randn(23, 6, generator: g);
        Assert.True(Knn.Votes(bank, labels, q, 4, 10, 0.1, chunk: 1000).allclose(Knn.Votes(bank, labels, q, 4, 10, 0.1, chunk: 4)));
    }

    [Fact]
    public void TopK_Ties_GoToLowestClass()
    {
        Tensor scores = tensor(new float[] { 1, 3, 3, 0 }, [1, 4]);
        var (top1, _) = Knn.TopK(scores, tensor(new long[] { 1 }));
        Assert.Equal(1.0, top1);
    }

    [Fact]
    public void Votes_KLargerThanBank_Rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Knn.Votes(Bank, BankLabels, Query, 2, k: 5, t: 0.1));
}
