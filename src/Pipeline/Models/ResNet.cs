// ResNet with BasicBlocks (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016),
// in the small-image ("CIFAR") form: a 3×3 stem without max-pool, stages of BasicBlocks whose first
// block may stride 2, global average pooling, a linear head. Module and field names follow
// torchvision's resnet.py (conv1, bn1, layerN.M.conv1/bn1/conv2/bn2/downsample.0/1, fc), so state
// dicts read like torchvision's. The pooled penultimate features are reachable through Features(),
// for probes, FID feature extraction and Grad-CAM.
using Gen.Pipeline.Onnx;
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

public sealed class BasicBlock : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly long _stride;
    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Module<Tensor, Tensor> conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(long inPlanes, long planes, long stride) : base(nameof(BasicBlock))
    {
        _stride = stride;
        conv1 = Conv.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv.Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        if (stride != 1 || inPlanes != planes)
            downsample = Sequential(Conv.Conv2d(inPlanes, planes, 1, stride: stride, bias: false), BatchNorm2d(planes));
        RegisterComponents();
    }

    internal BatchNorm2d LastNorm => bn2;

    /// <summary>relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut(x)), BatchNorms folded (docs/deploy.md).</summary>
    public string WriteOnnx(OnnxGraph g, string input, string prefix)
    {
        var (w1, b1) = Conv.Parameters(conv1);
        var (w2, b2) = Conv.Parameters(conv2);
        string y = g.Relu(g.Conv(input, w1, b1, _stride, 1, prefix + ".conv1", bn1), prefix + ".conv1");
        y = g.Conv(y, w2, b2, 1, 1, prefix + ".conv2", bn2);
        string identity = input;
        if (downsample is not null)
        {
            var parts = downsample.children().ToArray();
            var (wd, bd) = Conv.Parameters((Module<Tensor, Tensor>)parts[0]);
            identity = g.Conv(input, wd, bd, _stride, 0, prefix + ".downsample", (BatchNorm2d)parts[1]);
        }
        return g.Relu(g.Add(y, identity, prefix), prefix);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        Tensor identity = downsample is null ? x : downsample.call(x);
        return functional.relu(y + identity).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The parts both ResNets of Gen share (the classifier's ResNet here and the representation encoders'
/// ResNetEncoder): the 3×3 stem, the stages of BasicBlocks, their initialisation and the forward pass
/// through the first N stages. Each owner registers the parts itself, so its state-dict names and its
/// initialisation order (which fixes the random draws) stay its own.
/// </summary>
public static class ResNetParts
{
    /// <summary>The stem convolution and BatchNorm, and one Sequential of BasicBlocks per stage (the first block of every stage after the first strides 2).</summary>
    public static (Module<Tensor, Tensor> Conv1, BatchNorm2d Bn1, Sequential[] Layers) Build(int inChannels, int[] widths, int[] blocks, int stemStride)
    {
        var conv1 = Conv.Conv2d(inChannels, widths[0], 3, stride: stemStride, padding: 1, bias: false);
        var bn1 = BatchNorm2d(widths[0]);
        var stages = new Sequential[widths.Length];
        long inPlanes = widths[0];
        for (int s = 0; s < widths.Length; s++)
        {
            var list = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocks[s]; b++)
            {
                list.Add((b.ToString(System.Globalization.CultureInfo.InvariantCulture), new BasicBlock(inPlanes, widths[s], s > 0 && b == 0 ? 2 : 1)));
                inPlanes = widths[s];
            }
            stages[s] = Sequential(list);
        }
        return (conv1, bn1, stages);
    }

    /// <summary>torchvision's ResNet init over <paramref name="root"/>'s modules in registration order:
    /// Kaiming-normal fan-out convolutions, BatchNorm weight 1 and bias 0, and with zero_init_residual
    /// the last BatchNorm of every BasicBlock at 0 (Goyal et al. 2017).</summary>
    public static void Initialize(Module root, Generator g, bool zeroInitResidual)
    {
        using var _ = no_grad();
        foreach (var (_, m) in root.named_modules())
        {
            switch (m)
            {
                case TorchSharp.Modules.Conv2d or NarrowConv2d:
                    Init.KaimingNormalFanOut(Conv.Parameters((Module<Tensor, Tensor>)m).Weight, g);
                    break;
                case BatchNorm2d bn:
                    bn.weight!.fill_(1);
                    bn.bias!.zero_();
                    break;
            }
        }
        if (zeroInitResidual)
            foreach (var (_, m) in root.named_modules())
                if (m is BasicBlock b) b.LastNorm.weight!.zero_();
    }

    /// <summary>The stem and the first <paramref name="stages"/> stages (B × C × h × w).</summary>
    public static Tensor Forward(Module<Tensor, Tensor> conv1, BatchNorm2d bn1, Sequential[] layers, Tensor x, int stages)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.relu(bn1.call(conv1.call(x)));
        for (int s = 0; s < stages; s++) y = layers[s].call(y);
        return y.MoveToOuterDisposeScope();
    }
}

public sealed class ResNet : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly BatchNorm2d bn1;
    private readonly Sequential[] layers;   // registered as layer1..layerN (torchvision names)
    private readonly Linear fc;

    public ResNet(ResNetConfig config, Generator? init = null) : base(nameof(ResNet))
    {
        config.Validate();
        Config = config;
        (conv1, bn1, layers) = ResNetParts.Build(config.InChannels, config.Widths, config.Blocks, config.StemStride);
        fc = Linear(config.FeatureDim, config.Classes);
        for (int s = 0; s < layers.Length; s++) register_module($"layer{s + 1}", layers[s]);
        RegisterComponents();
        Initialize(init ?? new Generator(0));
    }

    public ResNetConfig Config { get; }

    private void Initialize(Generator g)
    {
        ResNetParts.Initialize(this, g, Config.ZeroInitResidual);   // draws the convolutions, then the head draws below
        Init.DefaultUniform(fc.weight!, fc.bias, g);
    }

    /// <summary>Pooled penultimate features (B × FeatureDim).</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        return functional.adaptive_avg_pool2d(FeatureMap(x), 1).flatten(1).MoveToOuterDisposeScope();
    }

    /// <summary>The last convolutional feature map (B × C × h × w), for Grad-CAM.</summary>
    public Tensor FeatureMap(Tensor x) => ResNetParts.Forward(conv1, bn1, layers, x, layers.Length);

    public Tensor Head(Tensor features) => fc.call(features);

    /// <summary>Stem, stages, global average pooling, the linear head (docs/deploy.md).</summary>
    public string WriteOnnx(OnnxGraph g, string input, string prefix)
    {
        var (w, b) = Conv.Parameters(conv1);
        string y = g.Relu(g.Conv(input, w, b, Config.StemStride, 1, prefix + "conv1", bn1), prefix + "conv1");
        for (int s = 0; s < layers.Length; s++)
        {
            int i = 0;
            foreach (var block in layers[s].children())
                y = ((IOnnxModule)block).WriteOnnx(g, y, $"{prefix}layer{s + 1}.{i++}");
        }
        y = g.Flatten(g.GlobalAveragePool(y, prefix + "pool"), prefix + "pool");
        return g.Linear(y, fc, prefix + "fc");
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc.call(Features(x)).MoveToOuterDisposeScope();
    }
}
