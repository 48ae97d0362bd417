// ResNet backbone without a classifier head (He et al. 2016), CIFAR form: 3×3 stem, no max-pool,
// stages of the foundation's BasicBlock (Gen.Pipeline.Models.ResNet), torchvision key names (conv1, bn1,
// layerN.M.*). The foundation's ResNet carries an fc head and a fixed stage count; representation
// learning wants a bare backbone, so the stem and stages are assembled here from the same parts and
// initialised the same way (Kaiming-normal fan-out convolutions, BN weight 1 / bias 0).
using Gen.Pipeline.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Representation.Encoders;

public sealed class ResNetEncoder : Encoder
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential[] _layers;   // registered as layer1..layerN
    private readonly int _featureDim;

    public ResNetEncoder(EncoderConfig config, Generator init) : base(nameof(ResNetEncoder))
    {
        int[] widths = config.Widths, blocks = config.Blocks;
        conv1 = Conv.Conv2d(config.InChannels, widths[0], 3, stride: config.StemStride, padding: 1, bias: false);
        bn1 = BatchNorm2d(widths[0]);
        var stages = new List<Sequential>();
        long inPlanes = widths[0];
        for (int s = 0; s < widths.Length; s++)
        {
            var list = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks[s]; b++)
            {
                list.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(inPlanes, widths[s], s > 0 && b == 0 ? 2 : 1)));
                inPlanes = widths[s];
            }
            stages.Add(Sequential(list));
        }
        _layers = stages.ToArray();
        _featureDim = widths[^1];
        RegisterComponents();
        for (int s = 0; s < _layers.Length; s++) register_module($"layer{s + 1}", _layers[s]);
        Initialize(init, config.ZeroInitResidual);
    }

    public override int FeatureDim => _featureDim;

    protected override int BlockCount => _layers.Length;

    private void Initialize(Generator g, bool zeroInitResidual)
    {
        using var _ = no_grad();
        foreach (var (name, m) in named_modules())
        {
            switch (m)
            {
                case TorchSharp.Modules.Conv2d or NarrowConv2d:
                    Init.KaimingNormalFanOut(Conv.Parameters((Module<Tensor, Tensor>)m).Weight, g);
                    break;
                case BatchNorm2d bn:
                    bool last = zeroInitResidual && name.EndsWith(".bn2", StringComparison.Ordinal);
                    bn.weight!.fill_(last ? 0 : 1);
                    bn.bias!.zero_();
                    break;
            }
        }
    }

    protected override Tensor Block(Tensor x, int index)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        for (int s = 0; s < index; s++) y = _layers[s].call(y);
        return y.MoveToOuterDisposeScope();
    }
}
