// The energy model's networks (docs/methods/jem-at.md §2): a classifier f: [0,1]^{C×H×W} → R^K with
// the mean/std normalisation inside (as the official DAT code's wide_resnet_innoutrobustness.py), so
// the attack, the energy and the sampler all work on [0,1] images.
//  * cnn-s: 3 × [conv3×3 (32/64/128) → BN → ReLU → max-pool 2] → flatten → linear (the spec's CPU net).
//  * wrn-16-4: pre-activation Wide ResNet (Zagoruyko & Komodakis 2016; BasicBlock BN → ReLU → conv),
//    widths 16/64/128/256, global average pool, linear.
// JemNetwork also holds the stage-2 curriculum state (T and the AUC window) as buffers, so the
// checkpoints and the exact-resume state carry it with the weights.
using Gen.Pipeline;
using Gen.Pipeline.Models;
using Gen.Pipeline.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Generative.Jem;

public sealed class CnnS : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly Module<Tensor, Tensor> conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Linear fc;

    public CnnS(int inChannels, int imageSize, int classes) : base(nameof(CnnS))
    {
        conv1 = Conv.Conv2d(inChannels, 32, 3, padding: 1);
        bn1 = BatchNorm2d(32);
        conv2 = Conv.Conv2d(32, 64, 3, padding: 1);
        bn2 = BatchNorm2d(64);
        conv3 = Conv.Conv2d(64, 128, 3, padding: 1);
        bn3 = BatchNorm2d(128);
        int s = imageSize / 2 / 2 / 2;   // three floor-halving max-pools: 28 → 14 → 7 → 3
        if (s < 1) throw new GenInputException($"cnn-s needs images of at least 8×8, got {imageSize}×{imageSize}");
        fc = Linear(128L * s * s, classes);
        RegisterComponents();
    }

    public void Initialize(Generator g)
    {
        // PyTorch's default init (U(±1/√fan_in)), drawn from the run's generator in registration order.
        foreach (var conv in new[] { conv1, conv2, conv3 })
        {
            var (w, b) = Conv.Parameters(conv);
            Init.DefaultUniform(w, b, g);
        }
        Init.DefaultUniform(fc.weight!, fc.bias, g);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Head(FeatureMap(x)).MoveToOuterDisposeScope();
    }

    /// <summary>The third block's ReLU output, before its max-pool (Grad-CAM's layer).</summary>
    public Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = functional.max_pool2d(functional.relu(bn1.call(conv1.call(x))), 2);
        x = functional.max_pool2d(functional.relu(bn2.call(conv2.call(x))), 2);
        return functional.relu(bn3.call(conv3.call(x))).MoveToOuterDisposeScope();
    }

    /// <summary>The last max-pool and the linear layer.</summary>
    public Tensor Head(Tensor featureMap) => fc.call(functional.max_pool2d(featureMap, 2).flatten(1));

    public string WriteOnnx(OnnxGraph g, string input, string prefix)
    {
        string x = input;
        foreach (var (conv, bn, name) in new[] { (conv1, bn1, "conv1"), (conv2, bn2, "conv2"), (conv3, bn3, "conv3") })
        {
            var (w, b) = Conv.Parameters(conv);
            x = g.MaxPool(g.Relu(g.Conv(x, w, b, 1, 1, prefix + name, bn), prefix + name), 2, prefix + name);
        }
        return g.Linear(g.Flatten(x, prefix + "fc"), fc, prefix + "fc");
    }
}

/// <summary>Pre-activation BasicBlock of a Wide ResNet.</summary>
public sealed class WideBlock : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly long _stride;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Module<Tensor, Tensor> conv1, conv2;
    private readonly Module<Tensor, Tensor>? shortcut;

    public WideBlock(long inPlanes, long planes, long stride) : base(nameof(WideBlock))
    {
        _stride = stride;
        bn1 = BatchNorm2d(inPlanes);
        conv1 = Conv.Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        conv2 = Conv.Conv2d(planes, planes, 3, padding: 1, bias: false);
        if (stride != 1 || inPlanes != planes) shortcut = Conv.Conv2d(inPlanes, planes, 1, stride: stride, bias: false);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor a = functional.relu(bn1.call(x));
        Tensor y = conv2.call(functional.relu(bn2.call(conv1.call(a))));
        Tensor identity = shortcut is null ? x : shortcut.call(a);
        return y.add(identity).MoveToOuterDisposeScope();
    }

    /// <summary>Pre-activation: BN → ReLU is a per-channel affine map and a ReLU, written as Mul/Add
    /// (inference BatchNorm) so nothing needs folding across the ReLU.</summary>
    public string WriteOnnx(OnnxGraph g, string input, string prefix)
    {
        string a = g.Relu(g.BatchNorm(input, bn1, prefix + ".bn1"), prefix + ".bn1");
        var (w1, b1) = Conv.Parameters(conv1);
        var (w2, b2) = Conv.Parameters(conv2);
        string y = g.Relu(g.Conv(a, w1, b1, _stride, 1, prefix + ".conv1", bn2), prefix + ".bn2");
        y = g.Conv(y, w2, b2, 1, 1, prefix + ".conv2");
        string identity = input;
        if (shortcut is not null)
        {
            var (ws, bs) = Conv.Parameters(shortcut);
            identity = g.Conv(a, ws, bs, _stride, 0, prefix + ".shortcut");
        }
        return g.Add(y, identity, prefix);
    }
}

public sealed class WideResNet : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Sequential block1, block2, block3;
    private readonly BatchNorm2d bn;
    private readonly Linear fc;

    public WideResNet(int inChannels, int classes, int depth = 16, int widen = 4) : base(nameof(WideResNet))
    {
        if ((depth - 4) % 6 != 0) throw new GenInputException($"a Wide ResNet's depth is 6n+4, got {depth}");
        int n = (depth - 4) / 6;
        long[] w = [16, 16 * widen, 32 * widen, 64 * widen];
        conv1 = Conv.Conv2d(inChannels, w[0], 3, padding: 1, bias: false);
        Sequential Group(long inPlanes, long planes, long stride) =>
            Sequential(Enumerable.Range(0, n).Select(i => (Module<Tensor, Tensor>)new WideBlock(i == 0 ? inPlanes : planes, planes, i == 0 ? stride : 1)).ToArray());
        block1 = Group(w[0], w[1], 1);
        block2 = Group(w[1], w[2], 2);
        block3 = Group(w[2], w[3], 2);
        bn = BatchNorm2d(w[3]);
        fc = Linear(w[3], classes);
        RegisterComponents();
    }

    public void Initialize(Generator g)
    {
        // Kaiming-normal (fan_out) convolutions, BN γ = 1 / β = 0, default linear (the WRN reference code).
        foreach (var m in modules())
            if (m is TorchSharp.Modules.Conv2d or NarrowConv2d) Init.KaimingNormalFanOut(Conv.Parameters((Module<Tensor, Tensor>)m).Weight, g);
        Init.DefaultUniform(fc.weight!, fc.bias, g);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Head(FeatureMap(x)).MoveToOuterDisposeScope();
    }

    /// <summary>The final BN-ReLU after the last group (Grad-CAM's layer).</summary>
    public Tensor FeatureMap(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor y = block3.call(block2.call(block1.call(conv1.call(x))));
        return functional.relu(bn.call(y)).MoveToOuterDisposeScope();
    }

    /// <summary>Global average pooling and the linear layer.</summary>
    public Tensor Head(Tensor featureMap) => fc.call(functional.adaptive_avg_pool2d(featureMap, 1).flatten(1));

    public string WriteOnnx(OnnxGraph g, string input, string prefix)
    {
        var (w, b) = Conv.Parameters(conv1);
        string y = g.Conv(input, w, b, 1, 1, prefix + "conv1");
        foreach (var (group, name) in new[] { (block1, "block1"), (block2, "block2"), (block3, "block3") })
        {
            int i = 0;
            foreach (var block in group.children()) y = ((IOnnxModule)block).WriteOnnx(g, y, $"{prefix}{name}.{i++}");
        }
        y = g.Relu(g.BatchNorm(y, bn, prefix + "bn"), prefix + "bn");
        return g.Linear(g.Flatten(g.GlobalAveragePool(y, prefix + "pool"), prefix + "pool"), fc, prefix + "fc");
    }
}

/// <summary>The stage-2 T curriculum's state (docs/methods/jem-at.md §2, stage 2 step 4), saved with the weights.</summary>
public sealed class CurriculumState : Module
{
    private readonly Tensor t, window, count;

    public CurriculumState(int windowSize) : base(nameof(CurriculumState))
    {
        t = zeros(1, ScalarType.Int64);
        window = zeros(Math.Max(windowSize, 1), ScalarType.Float32);
        count = zeros(1, ScalarType.Int64);
        register_buffer("t", t);
        register_buffer("auc_window", window);
        register_buffer("auc_count", count);
    }

    public int T => (int)t.item<long>();
    public int Count => (int)count.item<long>();

    /// <summary>Mean AUC of the entries in the window (NaN when empty).</summary>
    public double WindowMean => Count == 0 ? double.NaN : window.narrow(0, 0, Count).mean().item<float>();

    /// <summary>Adds one AUC; when the window is full and its mean reaches the threshold, T grows by one
    /// (never past tMax) and the window clears; a full window below threshold slides.</summary>
    public void Add(double auc, double threshold, int tMax)
    {
        using var _ = no_grad();
        int w = (int)window.shape[0];
        int n = Count;
        if (n == w)
        {
            // Full: slide by one (the official code keeps the last ⌈1000/B⌉ values).
            window.narrow(0, 0, w - 1).copy_(window.narrow(0, 1, w - 1).clone());
            n = w - 1;
        }
        window[n].fill_(auc);
        n++;
        count.fill_(n);
        if (n == w && WindowMean >= threshold && T < tMax)
        {
            t.add_(1);
            count.zero_();
            window.zero_();
        }
    }
}

/// <summary>The trained unit: normalisation, the classifier network, the curriculum state.</summary>
public sealed class JemNetwork : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> net;
    private readonly CurriculumState curriculum;
    private readonly double[] _mean, _std;

    public JemNetwork(JemConfig config, Generator? init = null) : base(nameof(JemNetwork))
    {
        config.Validate();
        _mean = config.Mean;
        _std = config.Std;
        switch (config.Arch)
        {
            case JemConfig.CnnS:
                var cnn = new CnnS(config.InChannels, config.ImageSize, config.Classes);
                if (init is not null) cnn.Initialize(init);
                net = cnn;
                break;
            default:
                var wrn = new WideResNet(config.InChannels, config.Classes);
                if (init is not null) wrn.Initialize(init);
                net = wrn;
                break;
        }
        curriculum = new CurriculumState(config.AucWindow);
        RegisterComponents();
    }

    public CurriculumState Curriculum => curriculum;

    /// <summary>The classifier network without the normalisation (for export).</summary>
    public IOnnxModule Body => (IOnnxModule)net;

    /// <summary>Logits of images in [0,1].</summary>
    public override Tensor forward(Tensor images01)
    {
        using var scope = NewDisposeScope();
        return net.call(Gen.Pipeline.Data.Augment.Normalize(images01, _mean, _std)).MoveToOuterDisposeScope();
    }

    /// <summary>Grad-CAM's layer: the last convolutional block's ReLU output of the normalised images.</summary>
    public string CamLayer => net is CnnS ? "conv3" : "bn";

    public Tensor CamActivations(Tensor images01)
    {
        using var scope = NewDisposeScope();
        Tensor x = Gen.Pipeline.Data.Augment.Normalize(images01, _mean, _std);
        return (net is CnnS c ? c.FeatureMap(x) : ((WideResNet)net).FeatureMap(x)).MoveToOuterDisposeScope();
    }

    public Tensor CamScores(Tensor activations) => net is CnnS c ? c.Head(activations) : ((WideResNet)net).Head(activations);

    /// <summary>Puts every BatchNorm in eval mode (running statistics frozen, γ/β still trainable).</summary>
    public void FreezeBatchNorm()
    {
        foreach (var m in modules())
            if (m is BatchNorm2d bn) bn.eval();
    }

    public long ParameterCount => parameters().Sum(p => p.numel());
}
