using Gen.Representation.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests.Encoders;

public sealed class EncoderTests
{
    [Fact]
    public void Resnet18_Rgb32_Gives512_WithTorchvisionKeys()
    {
        using var e = new EncoderConfig { Arch = EncoderArch.Resnet18, InChannels = 3 }.Create(new Generator(0));
        e.eval();
        using var _ = no_grad();
        Assert.Equal(new long[] { 2, 512 }, e.call(rand(2, 3, 32, 32)).shape);
        var keys = e.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("layer4.1.bn2.running_var", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("fc.", StringComparison.Ordinal));
        Assert.Equal(new long[] { 64, 3, 3, 3 }, e.state_dict()["conv1.weight"].shape);   // 3×3 stem, no max-pool
        Assert.Equal(new long[] { 2, 64 * 32 * 32 }, e.Layer(rand(2, 3, 32, 32), "block1").shape);
    }

    [Fact]
    public void Resnet10s_Grey28_Gives128_AndHasAbout031MParameters()
    {
        using var e = new EncoderConfig { Arch = EncoderArch.Resnet10s, InChannels = 1 }.Create(new Generator(0));
        e.eval();
        using var _ = no_grad();
        Assert.Equal(new long[] { 2, 128 }, e.call(rand(2, 1, 28, 28)).shape);
        long n = e.parameters().Sum(p => p.numel());
        Assert.InRange(n, 300_000, 320_000);
        Assert.Equal(new[] { "pool", "block1", "block2", "block3", "block4" }, e.LayerNames);
        Assert.Equal(32 * 7 * 7, e.LayerDim("block2", 1, 28, 28));
    }

    [Fact]
    public void Nin4_Block2_Is192x8x8_At32px()
    {
        using var e = new EncoderConfig { Arch = EncoderArch.Nin4, InChannels = 3 }.Create(new Generator(0));
        Assert.Equal(192 * 8 * 8, e.LayerDim("block2", 3, 32, 32));
        Assert.Equal(192, e.LayerDim("pool", 3, 32, 32));
        Assert.Equal("block2", new EncoderConfig { Arch = EncoderArch.Nin4 }.DefaultProbeLayer);
        Assert.Equal("pool", new EncoderConfig { Arch = EncoderArch.Resnet10s }.DefaultProbeLayer);
    }

    [Fact]
    public void ZeroInitResidual_ZeroesLastBlockNorms_AndSeedDeterminesWeights()
    {
        using var z = new EncoderConfig { Arch = EncoderArch.Resnet10s, ZeroInitResidual = true }.Create(new Generator(0));
        Assert.True(z.state_dict()["layer1.0.bn2.weight"].eq(0).all().item<bool>());
        using var a = new EncoderConfig().Create(new Generator(5));
        using var b = new EncoderConfig().Create(new Generator(5));
        using var c = new EncoderConfig().Create(new Generator(6));
        Assert.True(a.state_dict()["layer3.0.conv1.weight"].Same(b.state_dict()["layer3.0.conv1.weight"]));
        Assert.False(a.state_dict()["layer3.0.conv1.weight"].Same(c.state_dict()["layer3.0.conv1.weight"]));
    }

    [Fact]
    public void UnknownLayer_Rejected()
    {
        using var e = new EncoderConfig().Create(new Generator(0));
        var ex = Assert.Throws<Gen.Pipeline.GenInputException>(() => e.Layer(rand(1, 1, 28, 28), "block9"));
        Assert.Contains("--layer", ex.Message);
    }
}

/// <summary>Encoders as ONNX graphs (docs/deploy.md §8): every probe layer of the graph against TorchSharp,
/// with moved BatchNorm statistics, for each architecture.</summary>
public sealed class EncoderOnnxTests
{
    [Theory]
    [InlineData(Gen.Representation.Encoders.EncoderArch.Resnet10s)]
    [InlineData(Gen.Representation.Encoders.EncoderArch.Nin4)]
    public void EveryLayer_MatchesTorchSharp(Gen.Representation.Encoders.EncoderArch arch)
    {
        using var tmp = new TempDir();
        var cfg = PretrainConfig.For(PretrainMethodKind.Simclr, arch, TinyData.Train);
        using var g = new Generator(5);
        var encoder = cfg.Encoder.Create(g);
        using (no_grad())
            foreach (var m in encoder.modules().OfType<TorchSharp.Modules.BatchNorm2d>())
            {
                m.running_mean!.uniform_(-0.3, 0.3, g);
                m.running_var!.uniform_(0.5, 2.0, g);
                m.weight!.uniform_(0.5, 1.5, g);
                m.bias!.uniform_(-0.2, 0.2, g);
            }
        encoder.eval();
        string ckpt = tmp.File("enc.safetensors");
        File.WriteAllBytes(ckpt, [1, 2, 3]);   // only hashed into the metadata
        using var model = new EncoderModel(encoder, cfg, null, ckpt);
        var rep = Gen.Pipeline.Onnx.OnnxModels.Export(model, model, ckpt, tmp.File("enc.onnx"), parityInputs: 8);
        Assert.True(rep.ParityOk, $"relative {rep.MaxRelativeError:G3}");

        using var session = new Gen.Pipeline.Onnx.OnnxSession(new Microsoft.ML.OnnxRuntime.InferenceSession(tmp.File("enc.onnx")), "enc.onnx", Gen.Pipeline.Onnx.OnnxDevices.Cpu);
        using var onnx = (Gen.Pipeline.Methods.IModel)Gen.Representation.Encoders.EncoderOnnx.Open(session, new System.Text.Json.Nodes.JsonObject());
        var e = (Gen.Pipeline.Methods.IEncoder)onnx;
        Assert.Equal(model.Layers, e.Layers);
        Assert.Equal(model.DefaultLayer, e.DefaultLayer);
        using var scope = NewDisposeScope();
        Tensor x = rand([4, model.Channels, model.Height, model.Width], generator: new Generator(9));
        foreach (string layer in model.Layers)
        {
            Tensor a;
            using (no_grad()) a = model.Features(x, layer);
            Tensor b = e.Features(x, layer);
            Assert.Equal(a.shape, b.shape);
            double rel = b.sub(a).abs().max().item<float>() / a.abs().max().item<float>();
            Assert.True(rel <= 1e-5, $"{arch} {layer}: relative {rel:G3}");
        }
    }
}
