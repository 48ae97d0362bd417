// The Fashion-MNIST domain feature network (docs/methods/metrics.md §7.3): conv3×3 32 → 64 → 128, each with BatchNorm and
// ReLU, 2×2 max-pool after the first two, global average pool → 128-d feature, linear 10-way head. Small on
// purpose: 94k parameters (≈ 380 KB, shipped in assets/), 10k test images → features in seconds on a CPU.
// Classifier features in place of Inception for MNIST-like data is common practice for small GANs; the
// distance in its space is reported as FD-FMNIST, never as FID.
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Metrics.Fmnist;

public sealed record FmnistNetConfig
{
    public int[] Widths { get; init; } = [32, 64, 128];   // docs/methods/metrics.md §7.3
    public int Classes { get; init; } = 10;
    public int ImageSize { get; init; } = 28;
    public double Mean { get; init; } = 0.2860;           // Fashion-MNIST train pixel mean (ImageSet.ChannelStats)
    public double Std { get; init; } = 0.3530;            // and std, as /255 values

    public int FeatureDim => Widths[^1];
}

public sealed class FmnistNet : Module<Tensor, Tensor>, Gen.Pipeline.Methods.IClassifier
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Linear fc;

    public FmnistNet(FmnistNetConfig config, Generator? init = null) : base(nameof(FmnistNet))
    {
        Config = config;
        int[] w = config.Widths;
        conv1 = Conv2d(1, w[0], 3, padding: 1, bias: false);
        bn1 = BatchNorm2d(w[0]);
        conv2 = Conv2d(w[0], w[1], 3, padding: 1, bias: false);
        bn2 = BatchNorm2d(w[1]);
        conv3 = Conv2d(w[1], w[2], 3, padding: 1, bias: false);
        bn3 = BatchNorm2d(w[2]);
        fc = Linear(w[2], config.Classes);
        RegisterComponents();
        var g = init ?? new Generator(0);
        foreach (var c in new[] { conv1, conv2, conv3 }) Gen.Pipeline.Models.Init.KaimingNormalFanOut(c.weight!, g);
        Gen.Pipeline.Models.Init.DefaultUniform(fc.weight!, fc.bias, g);
    }

    public FmnistNetConfig Config { get; }

    /// <summary>Normalised float input B×1×28×28 → 128-d pooled features.</summary>
    public Tensor Features(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = functional.max_pool2d(functional.relu(bn1.call(conv1.call(x))), 2);
        y = functional.max_pool2d(functional.relu(bn2.call(conv2.call(y))), 2);
        y = functional.relu(bn3.call(conv3.call(y)));
        return functional.adaptive_avg_pool2d(y, 1).flatten(1).MoveToOuterDisposeScope();
    }

    public Tensor Head(Tensor features) => fc.call(features);

    /// <summary>The graph of <see cref="Features"/> (BatchNorm folded into each convolution, docs/deploy.md §2).</summary>
    public string WriteFeaturesOnnx(Gen.Pipeline.Onnx.OnnxGraph g, string x)
    {
        string y = g.MaxPool(g.Relu(g.Conv(x, conv1.weight!, null, 1, 1, "conv1", bn1), "conv1"), 2, "pool1");
        y = g.MaxPool(g.Relu(g.Conv(y, conv2.weight!, null, 1, 1, "conv2", bn2), "conv2"), 2, "pool2");
        y = g.Relu(g.Conv(y, conv3.weight!, null, 1, 1, "conv3", bn3), "conv3");
        return g.Flatten(g.GlobalAveragePool(y, "gap"), "gap");
    }

    // IClassifier: the extractor is a Fashion-MNIST classifier, so its accuracy comes from the one
    // evaluation loop (ClassifierEval) like every other classifier's.
    public int Channels => 1;
    public int Height => Config.ImageSize;
    public int Width => Config.ImageSize;
    public IReadOnlyList<string> ClassNames => Gen.Pipeline.Data.DatasetCatalog.FashionMnistClasses;
    public int Classes => Config.Classes;
    public string TrainingData => "fashion-mnist";
    public Tensor Logits(Tensor images01) => forward(Normalize(images01));

    /// <summary>[0,1] images → the network's normalised input.</summary>
    public Tensor Normalize(Tensor images01) => images01.sub(Config.Mean).div(Config.Std);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return fc.call(Features(x)).MoveToOuterDisposeScope();
    }
}
