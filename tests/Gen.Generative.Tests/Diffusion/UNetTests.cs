// The SongUNet: output shapes at every cascade resolution, the parameter count of docs/methods/diffusion.md §2.8, and
// state_dict names equal to NVlabs/edm SongUNet's.
using Gen.Generative.Diffusion;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Diffusion;

public sealed class UNetTests
{
    private static DiffusionConfig Spec(int[]? cascade = null) => new()
    {
        Net = new UNetConfig(),
        Cascade = cascade ?? [],
        StageProbs = cascade is null ? [] : [0.3, 0.3, 0.4],
        StageLossWeights = cascade is null ? [] : [1, 1, 1],
    };

    [Fact]
    public void SpecNet_ParameterCount_IsAbout1M()
    {
        using var g = new Generator(0);
        using var edm = new DiffusionModel(Spec(), g);
        using var low = new DiffusionModel(Spec([8, 16, 32]), g);
        // docs/methods/diffusion.md §2.8: about 1.03 M at C = 16; LowDiff adds the condition channel and the stage vector.
        Assert.InRange(edm.ParameterCount, 950_000, 1_100_000);
        Assert.InRange(low.ParameterCount - edm.ParameterCount, 100, 400);
    }

    [Fact]
    public void SpecNet_StateDictKeys_FollowSongUNet()
    {
        using var g = new Generator(0);
        using var m = new DiffusionModel(Spec(), g);
        var keys = m.Net.state_dict().Keys.ToHashSet();
        string[] expected =
        [
            "map_layer0.weight", "map_layer0.bias", "map_layer1.weight",
            "enc.32x32_conv.weight", "enc.32x32_block0.norm0.weight", "enc.32x32_block0.conv0.weight",
            "enc.32x32_block0.affine.weight", "enc.32x32_block0.conv1.bias", "enc.16x16_down.skip.weight",
            "enc.16x16_block0.skip.weight", "enc.8x8_block1.qkv.weight", "enc.8x8_block1.proj.weight",
            "enc.8x8_block1.norm2.bias", "dec.8x8_in0.qkv.weight", "dec.8x8_in1.conv1.weight",
            "dec.8x8_block2.proj.bias", "dec.16x16_up.conv0.weight", "dec.32x32_block2.conv1.weight",
            "dec.32x32_aux_norm.weight", "dec.32x32_aux_conv.weight", "dec.32x32_aux_conv.bias",
        ];
        foreach (string k in expected) Assert.Contains(k, keys);
        Assert.DoesNotContain(keys, k => k.Contains("map_label") || k.Contains("map_augment"));
        Assert.Equal(new long[] { 1, 16, 3, 3 }, m.Net.state_dict()["dec.32x32_aux_conv.weight"].shape);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(32)]
    public void LowDiffNet_OutputShape_EqualsInput(int r)
    {
        using var g = new Generator(0);
        using var m = new DiffusionModel(Spec([8, 16, 32]), g);
        Assert.True(m.Net.state_dict().ContainsKey("map_augment.weight"));
        using var scope = NewDisposeScope();
        Tensor x = randn([2, 1, r, r], generator: g);
        var stage = new CascadeInput(randn([2, 1, r, r], generator: g), LowDiffCascade.StageVector(1, 3, zeros(2)), zeros(2));
        Tensor d = m.Precond.Denoise(x, tensor(new float[] { 0.5f, 3f }), null, stage);
        Assert.Equal(x.shape, d.shape);
        Assert.True(d.isfinite().all().item<bool>());
    }
}
