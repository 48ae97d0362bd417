// Cascade operators and cost accounting (docs/methods/diffusion.md §5.5) and cascade validation.
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class LowDiffCascadeTests
{
    [Fact]
    public void Down_2x2_IsMean()
    {
        using Tensor x = tensor(new float[] { 1, 2, 3, 4 }).reshape(1, 1, 2, 2);
        using Tensor d = LowDiffCascade.Down(x);
        Assert.Equal(2.5f, d.item<float>());
    }

    [Fact]
    public void DownOfUp_IsIdentity()
    {
        using var g = new Generator(0);
        using Tensor x = randn([2, 1, 4, 4], generator: g);
        using Tensor u = LowDiffCascade.Up(x);
        using Tensor back = LowDiffCascade.Down(u);
        Assert.Equal(new long[] { 2, 1, 8, 8 }, u.shape);
        Assert.True(back.allclose(x, rtol: 0, atol: 0));
    }

    [Fact]
    public void Cost_18_8_6_MatchesSpec()
    {
        var (nfe, eq) = LowDiffCascade.Cost([8, 16, 32], [18, 8, 6], 32);
        Assert.Equal(new[] { 35, 15, 11 }, nfe);
        Assert.Equal(16.94, eq, 2);
        Assert.Equal(35.0, LowDiffCascade.Cost([32], [18], 32).FullEquivalent);
        Assert.Equal(70.0, LowDiffCascade.Cost([32], [18], 32, guided: true).FullEquivalent);
    }

    [Fact]
    public void StageVector_OneHotAndScaledSigmaAug()
    {
        using Tensor v = LowDiffCascade.StageVector(1, 3, tensor(new float[] { 0, 0.125f }));
        Assert.Equal(new long[] { 2, 4 }, v.shape);
        Assert.Equal(new float[] { 0, 1, 0, 0, 0, 1, 0, 0.5f }, v.data<float>().ToArray());
    }

    [Theory]
    [InlineData(new[] { 8, 16, 30 }, "end at")]
    [InlineData(new[] { 12, 32 }, "does not divide")]
    [InlineData(new[] { 8, 32 }, "double")]
    [InlineData(new[] { 16, 8, 32 }, "double")]
    [InlineData(new[] { 32 }, "at least two")]
    [InlineData(new[] { 8, 16 }, "end at")]
    [InlineData(new[] { 2, 4, 8, 16, 32 }, "levels")]
    public void ValidateCascade_Bad_ThrowsNamingOption(int[] cascade, string fragment)
    {
        var e = Assert.Throws<GenInputException>(() => DiffusionConfig.ValidateCascade(cascade, 32, 3));
        Assert.Contains("--cascade", e.Message);
        Assert.Contains(fragment, e.Message);
    }
}
