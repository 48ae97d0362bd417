// ResNet backbone without a classifier head (He et al. 2016), CIFAR form: 3×3 stem, no max-pool,
// stages of BasicBlocks, torchvision key names (conv1, bn1, layerN.M.*). Built, initialised and run
// from the same parts as the classifier's ResNet (Gen.Pipeline.Models.ResNetParts); representation
// learning wants a bare backbone whose intermediate blocks probes can read.
using Gen.Pipeline.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Encoders;

public sealed class ResNetEncoder : Encoder
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential[] _layers;   // registered as layer1..layerN
    private readonly int _featureDim;
    private readonly int _stemStride;

    public ResNetEncoder(EncoderConfig config, Generator init) : base(nameof(ResNetEncoder))
    {
        (conv1, bn1, _layers) = ResNetParts.Build(config.InChannels, config.Widths, config.Blocks, config.StemStride);
        _featureDim = config.Widths[^1];
        _stemStride = config.StemStride;
        RegisterComponents();
        for (int s = 0; s < _layers.Length; s++) register_module($"layer{s + 1}", _layers[s]);
        ResNetParts.Initialize(this, init, config.ZeroInitResidual);
    }

    public override int FeatureDim => _featureDim;

    protected override int BlockCount => _layers.Length;

    protected override Tensor Block(Tensor x, int index) => ResNetParts.Forward(conv1, bn1, _layers, x, index);

    public override IReadOnlyList<string> WriteBlocksOnnx(Gen.Pipeline.Onnx.OnnxGraph g, string x)
    {
        var (w, b) = Conv.Parameters(conv1);
        string y = g.Relu(g.Conv(x, w, b, _stemStride, 1, "conv1", bn1), "conv1");
        var blocks = new List<string>();
        for (int s = 0; s < _layers.Length; s++)
        {
            int i = 0;
            foreach (var block in _layers[s].children())
                y = ((Gen.Pipeline.Onnx.IOnnxModule)block).WriteOnnx(g, y, $"layer{s + 1}.{i++}");
            blocks.Add(y);
        }
        return blocks;
    }
}
