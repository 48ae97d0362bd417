using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Models;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Models;

public sealed class ResNetTests
{
    [Fact]
    public void PyTorchStateDict_LoadsByName_AndOutputsMatch()
    {
        // resnet_small.safetensors holds a PyTorch ResNet built independently in the fixture script,
        // its formula weights and its eval-mode features and logits for a formula input.
        var file = SafeTensors.Read(Fixtures.Path("resnet_small.safetensors"));
        var cfg = new ResNetConfig { InChannels = 3, Classes = 5, Widths = [4, 8, 16], Blocks = [1, 2, 1], StemStride = 2 };
        using var net = new ResNet(cfg);
        var weights = new SafeTensorsFile(file.Metadata,
            file.Tensors.Where(kv => kv.Key is not ("input" or "features" or "logits")).ToDictionary(), file.Path);
        Checkpoint.LoadInto(net, weights);
        net.eval();
        using var x = TensorBytes.FromSt(file.Tensors["input"]);
        using var _ = no_grad();
        FixtureTensors.AssertClose(TensorBytes.FromSt(file.Tensors["features"]), net.Features(x), 1e-5, 1e-5);
        FixtureTensors.AssertClose(TensorBytes.FromSt(file.Tensors["logits"]), net.call(x), 1e-5, 1e-5);
    }

    [Fact]
    public void StateDictKeys_FollowTorchvisionNames()
    {
        using var net = new ResNet(new ResNetConfig { Widths = [4, 8], Blocks = [1, 2] });
        var keys = net.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("bn1.running_var", keys);
        Assert.Contains("layer1.0.conv2.weight", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer2.1.bn2.num_batches_tracked", keys);
        Assert.Contains("fc.bias", keys);
        Assert.DoesNotContain(keys, k => k.StartsWith("layers", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1, 28, 1)]
    [InlineData(3, 32, 1)]
    [InlineData(1, 28, 2)]
    public void Shapes_ForGreyAndRgbInputs(int channels, int size, int stemStride)
    {
        using var net = new ResNet(new ResNetConfig { InChannels = channels, Classes = 7, Widths = [4, 8, 16], Blocks = [1, 1, 1], StemStride = stemStride });
        using var x = rand(2, channels, size, size, generator: new Generator(1));
        Assert.Equal(new long[] { 2, 7 }, net.call(x).shape);
        Assert.Equal(new long[] { 2, 16 }, net.Features(x).shape);
    }

    [Fact]
    public void SameGenerator_SameInitialWeights()
    {
        using var a = new ResNet(new ResNetConfig { Widths = [4], Blocks = [1] }, new Generator(9));
        using var b = new ResNet(new ResNetConfig { Widths = [4], Blocks = [1] }, new Generator(9));
        FixtureTensors.AssertClose(a.state_dict()["conv1.weight"], b.state_dict()["conv1.weight"], 0);
    }
}
