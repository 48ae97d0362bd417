// ResNet with BasicBlocks (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016),
// in the small-image ("CIFAR") form: a 3×3 stem without max-pool, stages of BasicBlocks whose first
// block may stride 2, global average pooling, a linear head. Module and field names follow
// torchvision's resnet.py (conv1, bn1, layerN.M.conv1/bn1/conv2/bn2/downsample.0/1, fc), so state
// dicts read like torchvision's. The pooled penultimate features are reachable through Features(),
// for probes, FID feature extraction and Grad-CAM.
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Pipeline.Models;

public sealed record ResNetConfig
{
    public int InChannels { get; init; } = 1;
    public int Classes { get; init; } = 10;
    public int[] Widths { get; init; } = [32, 64, 128];   // channels per stage
    public int[] Blocks { get; init; } = [2, 2, 2];       // BasicBlocks per stage
    public int StemStride { get; init; } = 1;              // 1 keeps 28/32 px resolution in stage 1
    public bool ZeroInitResidual { get; init; } = false;  // torchvision's zero_init_residual (Goyal et al. 2017)

    public int FeatureDim => Widths[^1];

    public void Validate()
    {
        if (InChannels is not (1 or 3)) throw new GenInputException($"ResNet takes 1 or 3 input channels, got {InChannels}");
        if (Classes < 1) throw new GenInputException($"ResNet needs at least one class, got {Classes}");
        if (Widths.Length == 0 || Widths.Length != Blocks.Length)
            throw new GenInputException("ResNet widths and blocks must be non-empty lists of equal length");
        if (Widths.Any(w => w <= 0) || Blocks.Any(b => b <= 0)) throw new GenInputException("ResNet widths and block counts must be positive");
        if (StemStride is not (1 or 2)) throw new GenInputException($"ResNet stem stride must be 1 or 2, got {StemStride}");
    }
}

public sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Module<Tensor, Tensor> conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inPlanes, long planes, long stride) : base(nameof(BasicBlock))
    {
        conv1 = Conv.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        if (stride != 1 || inPlanes != planes)
            downsample = Sequential(Conv.Conv2d(inPlanes, planes, 1, stride: stride, bias: false), BatchNorm2d(planes));
        RegisterComponents();
    }

    internal BatchNorm2d LastNorm => bn2;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        Tensor identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y + identity).MoveToOuterDisposeScope();
    }
}

public sealed class ResNet : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential[] layers;   // registered as layer1..layerN (torchvision names)
    private readonly Linear fc;

    public ResNet(ResNetConfig config, Generator? init = null) : base(nameof(ResNet))
    {
        config.Validate();
        Config = config;
        conv1 = Conv.Conv2d(config.InChannels, config.Widths[0], 3, stride: config.StemStride, padding: 1, bias: false);
        bn1 = BatchNorm2d(config.Widths[0]);
        var stages = new List<Sequential>();
        long inPlanes = config.Widths[0];
        for (int s = 0; s < config.Widths.Length; s++)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < config.Blocks[s]; b++)
            {
                long stride = s > 0 && b == 0 ? 2 : 1;
                blocks.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(inPlanes, config.Widths[s], stride)));
                inPlanes = config.Widths[s];
            }
            stages.Add(Sequential(blocks));
        }
        layers = stages.ToArray();
        fc = Linear(inPlanes, config.Classes);
        for (int s = 0; s < layers.Length; s++) register_module($"layer{s + 1}", layers[s]);
        RegisterComponents();
        Initialize(init ?? new Generator(0));
    }

    public ResNetConfig Config { get; }

    private void Initialize(Generator g)
    {
        foreach (var (_, m) in named_modules())
        {
            switch (m)
            {
                case TorchSharp.Modules.Conv2d or NarrowConv2d: Init.KaimingNormalFanOut(Conv.Parameters((Module<Tensor, Tensor>)m).Weight, g); break;
                case BatchNorm2d bn:
                    using (no_grad()) { bn.weight!.fill_(1); bn.bias!.zero_(); }
                    break;
            }
        }
        Init.DefaultUniform(fc.weight!, fc.bias, g);
        if (Config.ZeroInitResidual)
            foreach (var (_, m) in named_modules())
                if (m is BasicBlock b) using (no_grad()) b.LastNorm.weight!.zero_();
    }

    /// <summary>Pooled penultimate features (B × FeatureDim).</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        foreach (var layer in layers) y = layer.call(y);
        return functional.adaptive_avg_pool2d(y, 1).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>The last convolutional feature map (B × C × h × w), for Grad-CAM.</summary>
    public Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        foreach (var layer in layers) y = layer.call(y);
        return y.MoveToOuterDisposeScope();
    }

    public Tensor Head(Tensor features) => fc.call(features);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc.call(Features(x)).MoveToOuterDisposeScope();
    }
}
