// The FID Inception v3 of pytorch-fid (mseitzer/pytorch-fid src/pytorch_fid/inception.py @b9c1811,
// `fid_inception_v3` and `InceptionV3`): torchvision's Inception3 (num_classes 1008, no aux logits, no
// transform_input) with the blocks patched to match the TensorFlow graph `inception-2015-12-05` that the
// original TTUR FID code used. Field names equal the state_dict keys of pt_inception-2015-12-05-6726825d.pth
// (566 entries), so the real weights load by name (Checkpoint.LoadInto checks every key and shape).
// Differences from torchvision, each forced by the TF graph (see pytorch-fid's FIDInception* docstrings):
//   Mixed_5b–5d (A), Mixed_6b–6e (C), Mixed_7b (E_1): branch_pool averages with count_include_pad=False
//   (TF excludes the zero padding from the mean); Mixed_7c (E_2): branch_pool is a 3×3 max pool.
// Outputs follow pytorch-fid's four blocks: pooled maxpool-1 (64), maxpool-2 (192), Mixed_6e (768) and the
// final average pool (2048), plus torch-fidelity's `logits_unbiased` (pool3 · fc.weightᵀ, no bias; the IS
// layer of torch_fidelity/feature_extractor_inceptionv3.py) and the biased logits.
using Gen.Pipeline.Models;
using TorchSharp.Modules;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Metrics.Inception;

/// <summary>The outputs pytorch-fid (block indices 0–3) and torch-fidelity expose.</summary>
public enum InceptionOutput { Pool64 = 0, Pool192 = 1, Pool768 = 2, Pool2048 = 3, LogitsUnbiased = 4, Logits = 5 }

/// <summary>conv (no bias) → BatchNorm (eps 0.001, TF's value) → ReLU: torchvision's BasicConv2d.</summary>
public sealed class BasicConv2d : Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;

    private readonly long[] _stride, _padding;
    private Tensor? _foldedWeight, _foldedBias;   // set by FoldBatchNorm (inference in a low precision)

    public BasicConv2d(long cin, long cout, (long, long) kernel, (long, long)? stride = null, (long, long)? padding = null)
        : base(nameof(BasicConv2d))
    {
        var (s, p) = (stride ?? (1, 1), padding ?? (0, 0));
        _stride = [s.Item1, s.Item2];
        _padding = [p.Item1, p.Item2];
        conv = Conv2d(cin, cout, kernel, stride: s, padding: p, bias: false);
        bn = BatchNorm2d(cout, eps: 0.001);
        RegisterComponents();
    }

    /// <summary>
    /// Folds the eval-mode BatchNorm into the convolution (w·γ/√(var+ε), β − mean·γ/√(var+ε)), computed in
    /// float64 and stored in <paramref name="dtype"/>. Used for bf16: casting the BN parameters separately
    /// would round the running mean and the input before their difference; folded, each weight is rounded
    /// once, and the BN pass disappears. The fp32 path keeps the unfolded modules (the reference's order).
    /// </summary>
    public void FoldBatchNorm(ScalarType dtype, bool channelsLast = false)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Tensor scale = bn.weight!.to_type(ScalarType.Float64) / (bn.running_var!.to_type(ScalarType.Float64) + bn.eps).sqrt();
        Tensor w = conv.weight!.to_type(ScalarType.Float64) * scale.view(-1, 1, 1, 1);
        Tensor b = bn.bias!.to_type(ScalarType.Float64) - bn.running_mean!.to_type(ScalarType.Float64) * scale;
        _foldedWeight?.Dispose(); _foldedBias?.Dispose();
        Tensor folded = w.to_type(dtype);
        _foldedWeight = (channelsLast ? Layout.ChannelsLast(folded) : folded).MoveToOuterDisposeScope();
        _foldedBias = b.to_type(dtype).MoveToOuterDisposeScope();
    }

    public BasicConv2d(long cin, long cout, long kernel, long stride = 1, long padding = 0)
        : this(cin, cout, (kernel, kernel), (stride, stride), (padding, padding)) { }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();   // frees the conv and BN outputs at once (peak memory, not speed)
        if (_foldedWeight is not null)
            return functional.conv2d(x, _foldedWeight, _foldedBias, strides: _stride, padding: _padding).relu_().MoveToOuterDisposeScope();
        return bn.call(conv.call(x)).relu_().MoveToOuterDisposeScope();
    }

    /// <summary>Conv with the BatchNorm folded in (float64 fold, docs/deploy.md §2), then ReLU.</summary>
    public string WriteOnnx(OnnxGraph g, string x, string prefix) =>
        g.Relu(g.Conv(x, conv.weight!, null, (_stride[0], _stride[1]), (_padding[0], _padding[1]), prefix, bn), prefix);
}

internal static class Pools
{
    /// <summary>TF's 3×3 stride-1 SAME average pool: the zero padding is not counted in the mean.</summary>
    public static Tensor AvgExcludePad(Tensor x) =>
        functional.avg_pool2d(x, 3, stride: 1, padding: 1, count_include_pad: false);

    public static string AvgExcludePad(OnnxGraph g, string x, string prefix) => g.AvgPoolSameExcludePad(x, 3, prefix);
}

/// <summary>Mixed_5b/5c/5d (FIDInceptionA).</summary>
public sealed class InceptionA : Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch5x5_1, branch5x5_2, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3, branch_pool;

    public InceptionA(long cin, long poolFeatures) : base(nameof(InceptionA))
    {
        branch1x1 = new BasicConv2d(cin, 64, 1);
        branch5x5_1 = new BasicConv2d(cin, 48, 1);
        branch5x5_2 = new BasicConv2d(48, 64, 5, padding: 2);
        branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
        branch3x3dbl_2 = new BasicConv2d(64, 96, 3, padding: 1);
        branch3x3dbl_3 = new BasicConv2d(96, 96, 3, padding: 1);
        branch_pool = new BasicConv2d(cin, poolFeatures, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor b1 = branch1x1.call(x);
        Tensor b5 = branch5x5_2.call(branch5x5_1.call(x));
        Tensor b3 = branch3x3dbl_3.call(branch3x3dbl_2.call(branch3x3dbl_1.call(x)));
        Tensor bp = branch_pool.call(Pools.AvgExcludePad(x));
        return cat([b1, b5, b3, bp], 1).MoveToOuterDisposeScope();
    }

    public string WriteOnnx(OnnxGraph g, string x, string p)
    {
        string b1 = branch1x1.WriteOnnx(g, x, p + ".branch1x1");
        string b5 = branch5x5_2.WriteOnnx(g, branch5x5_1.WriteOnnx(g, x, p + ".branch5x5_1"), p + ".branch5x5_2");
        string b3 = branch3x3dbl_3.WriteOnnx(g, branch3x3dbl_2.WriteOnnx(g, branch3x3dbl_1.WriteOnnx(g, x, p + ".branch3x3dbl_1"), p + ".branch3x3dbl_2"), p + ".branch3x3dbl_3");
        string bp = branch_pool.WriteOnnx(g, Pools.AvgExcludePad(g, x, p + ".pool"), p + ".branch_pool");
        return g.Concat([b1, b5, b3, bp], 1, p);
    }
}

/// <summary>Mixed_6a (torchvision InceptionB, unchanged).</summary>
public sealed class InceptionB : Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch3x3, branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3;

    public InceptionB(long cin) : base(nameof(InceptionB))
    {
        branch3x3 = new BasicConv2d(cin, 384, 3, stride: 2);
        branch3x3dbl_1 = new BasicConv2d(cin, 64, 1);
        branch3x3dbl_2 = new BasicConv2d(64, 96, 3, padding: 1);
        branch3x3dbl_3 = new BasicConv2d(96, 96, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor b3 = branch3x3.call(x);
        Tensor bd = branch3x3dbl_3.call(branch3x3dbl_2.call(branch3x3dbl_1.call(x)));
        Tensor bp = functional.max_pool2d(x, 3, stride: 2);
        return cat([b3, bd, bp], 1).MoveToOuterDisposeScope();
    }

    public string WriteOnnx(OnnxGraph g, string x, string p)
    {
        string b3 = branch3x3.WriteOnnx(g, x, p + ".branch3x3");
        string bd = branch3x3dbl_3.WriteOnnx(g, branch3x3dbl_2.WriteOnnx(g, branch3x3dbl_1.WriteOnnx(g, x, p + ".branch3x3dbl_1"), p + ".branch3x3dbl_2"), p + ".branch3x3dbl_3");
        return g.Concat([b3, bd, g.MaxPool(x, 3, 2, 0, p + ".pool")], 1, p);
    }
}

/// <summary>Mixed_6b–6e (FIDInceptionC).</summary>
public sealed class InceptionC : Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch7x7_1, branch7x7_2, branch7x7_3;
    private readonly BasicConv2d branch7x7dbl_1, branch7x7dbl_2, branch7x7dbl_3, branch7x7dbl_4, branch7x7dbl_5, branch_pool;

    public InceptionC(long cin, long c7) : base(nameof(InceptionC))
    {
        branch1x1 = new BasicConv2d(cin, 192, 1);
        branch7x7_1 = new BasicConv2d(cin, c7, 1);
        branch7x7_2 = new BasicConv2d(c7, c7, (1, 7), padding: (0, 3));
        branch7x7_3 = new BasicConv2d(c7, 192, (7, 1), padding: (3, 0));
        branch7x7dbl_1 = new BasicConv2d(cin, c7, 1);
        branch7x7dbl_2 = new BasicConv2d(c7, c7, (7, 1), padding: (3, 0));
        branch7x7dbl_3 = new BasicConv2d(c7, c7, (1, 7), padding: (0, 3));
        branch7x7dbl_4 = new BasicConv2d(c7, c7, (7, 1), padding: (3, 0));
        branch7x7dbl_5 = new BasicConv2d(c7, 192, (1, 7), padding: (0, 3));
        branch_pool = new BasicConv2d(cin, 192, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor b1 = branch1x1.call(x);
        Tensor b7 = branch7x7_3.call(branch7x7_2.call(branch7x7_1.call(x)));
        Tensor bd = branch7x7dbl_5.call(branch7x7dbl_4.call(branch7x7dbl_3.call(branch7x7dbl_2.call(branch7x7dbl_1.call(x)))));
        Tensor bp = branch_pool.call(Pools.AvgExcludePad(x));
        return cat([b1, b7, bd, bp], 1).MoveToOuterDisposeScope();
    }

    public string WriteOnnx(OnnxGraph g, string x, string p)
    {
        string b1 = branch1x1.WriteOnnx(g, x, p + ".branch1x1");
        string b7 = x;
        foreach (var (m, n) in new[] { (branch7x7_1, "branch7x7_1"), (branch7x7_2, "branch7x7_2"), (branch7x7_3, "branch7x7_3") })
            b7 = m.WriteOnnx(g, b7, $"{p}.{n}");
        string bd = x;
        foreach (var (m, n) in new[] { (branch7x7dbl_1, "branch7x7dbl_1"), (branch7x7dbl_2, "branch7x7dbl_2"), (branch7x7dbl_3, "branch7x7dbl_3"),
                                       (branch7x7dbl_4, "branch7x7dbl_4"), (branch7x7dbl_5, "branch7x7dbl_5") })
            bd = m.WriteOnnx(g, bd, $"{p}.{n}");
        string bp = branch_pool.WriteOnnx(g, Pools.AvgExcludePad(g, x, p + ".pool"), p + ".branch_pool");
        return g.Concat([b1, b7, bd, bp], 1, p);
    }
}

/// <summary>Mixed_7a (torchvision InceptionD, unchanged).</summary>
public sealed class InceptionD : Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch3x3_1, branch3x3_2, branch7x7x3_1, branch7x7x3_2, branch7x7x3_3, branch7x7x3_4;

    public InceptionD(long cin) : base(nameof(InceptionD))
    {
        branch3x3_1 = new BasicConv2d(cin, 192, 1);
        branch3x3_2 = new BasicConv2d(192, 320, 3, stride: 2);
        branch7x7x3_1 = new BasicConv2d(cin, 192, 1);
        branch7x7x3_2 = new BasicConv2d(192, 192, (1, 7), padding: (0, 3));
        branch7x7x3_3 = new BasicConv2d(192, 192, (7, 1), padding: (3, 0));
        branch7x7x3_4 = new BasicConv2d(192, 192, 3, stride: 2);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor b3 = branch3x3_2.call(branch3x3_1.call(x));
        Tensor b7 = branch7x7x3_4.call(branch7x7x3_3.call(branch7x7x3_2.call(branch7x7x3_1.call(x))));
        Tensor bp = functional.max_pool2d(x, 3, stride: 2);
        return cat([b3, b7, bp], 1).MoveToOuterDisposeScope();
    }

    public string WriteOnnx(OnnxGraph g, string x, string p)
    {
        string b3 = branch3x3_2.WriteOnnx(g, branch3x3_1.WriteOnnx(g, x, p + ".branch3x3_1"), p + ".branch3x3_2");
        string b7 = x;
        foreach (var (m, n) in new[] { (branch7x7x3_1, "branch7x7x3_1"), (branch7x7x3_2, "branch7x7x3_2"), (branch7x7x3_3, "branch7x7x3_3"), (branch7x7x3_4, "branch7x7x3_4") })
            b7 = m.WriteOnnx(g, b7, $"{p}.{n}");
        return g.Concat([b3, b7, g.MaxPool(x, 3, 2, 0, p + ".pool")], 1, p);
    }
}

/// <summary>Mixed_7b (FIDInceptionE_1: average pool without padding) and Mixed_7c (FIDInceptionE_2: max pool).</summary>
public sealed class InceptionE : Module<Tensor, Tensor>
{
    private readonly BasicConv2d branch1x1, branch3x3_1, branch3x3_2a, branch3x3_2b;
    private readonly BasicConv2d branch3x3dbl_1, branch3x3dbl_2, branch3x3dbl_3a, branch3x3dbl_3b, branch_pool;
    private readonly bool _maxPool;

    public InceptionE(long cin, bool maxPool) : base(nameof(InceptionE))
    {
        branch1x1 = new BasicConv2d(cin, 320, 1);
        branch3x3_1 = new BasicConv2d(cin, 384, 1);
        branch3x3_2a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
        branch3x3_2b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
        branch3x3dbl_1 = new BasicConv2d(cin, 448, 1);
        branch3x3dbl_2 = new BasicConv2d(448, 384, 3, padding: 1);
        branch3x3dbl_3a = new BasicConv2d(384, 384, (1, 3), padding: (0, 1));
        branch3x3dbl_3b = new BasicConv2d(384, 384, (3, 1), padding: (1, 0));
        branch_pool = new BasicConv2d(cin, 192, 1);
        _maxPool = maxPool;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor b1 = branch1x1.call(x);
        Tensor b3 = branch3x3_1.call(x);
        b3 = cat([branch3x3_2a.call(b3), branch3x3_2b.call(b3)], 1);
        Tensor bd = branch3x3dbl_2.call(branch3x3dbl_1.call(x));
        bd = cat([branch3x3dbl_3a.call(bd), branch3x3dbl_3b.call(bd)], 1);
        // Mixed_7c: "the FID Inception model uses max pooling instead of average pooling" (pytorch-fid).
        Tensor pooled = _maxPool ? functional.max_pool2d(x, 3, stride: 1, padding: 1) : Pools.AvgExcludePad(x);
        Tensor bp = branch_pool.call(pooled);
        return cat([b1, b3, bd, bp], 1).MoveToOuterDisposeScope();
    }

    public string WriteOnnx(OnnxGraph g, string x, string p)
    {
        string b1 = branch1x1.WriteOnnx(g, x, p + ".branch1x1");
        string b3 = branch3x3_1.WriteOnnx(g, x, p + ".branch3x3_1");
        b3 = g.Concat([branch3x3_2a.WriteOnnx(g, b3, p + ".branch3x3_2a"), branch3x3_2b.WriteOnnx(g, b3, p + ".branch3x3_2b")], 1, p + ".b3");
        string bd = branch3x3dbl_2.WriteOnnx(g, branch3x3dbl_1.WriteOnnx(g, x, p + ".branch3x3dbl_1"), p + ".branch3x3dbl_2");
        bd = g.Concat([branch3x3dbl_3a.WriteOnnx(g, bd, p + ".branch3x3dbl_3a"), branch3x3dbl_3b.WriteOnnx(g, bd, p + ".branch3x3dbl_3b")], 1, p + ".bd");
        string pooled = _maxPool ? g.MaxPool(x, 3, 1, 1, p + ".pool") : Pools.AvgExcludePad(g, x, p + ".pool");
        return g.Concat([b1, b3, bd, branch_pool.WriteOnnx(g, pooled, p + ".branch_pool")], 1, p);
    }
}

/// <summary>The FID Inception v3; input is the already preprocessed B×3×299×299 tensor (see Preprocess).</summary>
public sealed class FidInceptionV3 : Module<Tensor, Tensor>
{
    public const int StateDictEntries = 566;   // 94 BasicConv2d × 6 + fc.weight + fc.bias
    public const int Classes = 1008;           // the TF graph's 1008-way softmax (1000 classes + 8 unused)

    private readonly BasicConv2d Conv2d_1a_3x3, Conv2d_2a_3x3, Conv2d_2b_3x3, Conv2d_3b_1x1, Conv2d_4a_3x3;
    private readonly InceptionA Mixed_5b, Mixed_5c, Mixed_5d;
    private readonly InceptionB Mixed_6a;
    private readonly InceptionC Mixed_6b, Mixed_6c, Mixed_6d, Mixed_6e;
    private readonly InceptionD Mixed_7a;
    private readonly InceptionE Mixed_7b, Mixed_7c;
    private readonly Linear fc;

    public FidInceptionV3() : base(nameof(FidInceptionV3))
    {
        Conv2d_1a_3x3 = new BasicConv2d(3, 32, 3, stride: 2);
        Conv2d_2a_3x3 = new BasicConv2d(32, 32, 3);
        Conv2d_2b_3x3 = new BasicConv2d(32, 64, 3, padding: 1);
        Conv2d_3b_1x1 = new BasicConv2d(64, 80, 1);
        Conv2d_4a_3x3 = new BasicConv2d(80, 192, 3);
        Mixed_5b = new InceptionA(192, 32);
        Mixed_5c = new InceptionA(256, 64);
        Mixed_5d = new InceptionA(288, 64);
        Mixed_6a = new InceptionB(288);
        Mixed_6b = new InceptionC(768, 128);
        Mixed_6c = new InceptionC(768, 160);
        Mixed_6d = new InceptionC(768, 160);
        Mixed_6e = new InceptionC(768, 192);
        Mixed_7a = new InceptionD(768);
        Mixed_7b = new InceptionE(1280, maxPool: false);
        Mixed_7c = new InceptionE(2048, maxPool: true);
        fc = Linear(2048, Classes);
        RegisterComponents();
        eval();
    }

    public static int Dims(InceptionOutput o) => o switch
    {
        InceptionOutput.Pool64 => 64,
        InceptionOutput.Pool192 => 192,
        InceptionOutput.Pool768 => 768,
        InceptionOutput.Pool2048 => 2048,
        _ => Classes,
    };

    /// <summary>
    /// Readies the network for inference in <paramref name="dtype"/>: for a low precision every BasicConv2d
    /// folds its BatchNorm (see BasicConv2d.FoldBatchNorm) and, by default, activations and weights use the
    /// NHWC layout (oneDNN's preferred bf16 layout: 2.3× the NCHW bf16 images/s here, bench/RESULTS.md). The
    /// pooled outputs and the fc layer stay fp32. float32 keeps the reference's modules and NCHW: besides
    /// being the order pytorch-fid computes in, an NHWC float32 1×1 convolution of this libtorch (TorchSharp
    /// 0.107) returns wrong values for 64→80 channels, Conv2d_3b_1x1's shape (measured: ~50 % relative
    /// error against float64; docs/platform.md §5).
    /// </summary>
    public void PrepareInference(ScalarType dtype, bool channelsLast = true)
    {
        eval();
        if (dtype == ScalarType.Float32) return;
        ChannelsLast = channelsLast;
        foreach (var m in modules())
            if (m is BasicConv2d c) c.FoldBatchNorm(dtype, channelsLast);
    }

    /// <summary>Whether activations run in the NHWC layout (set by PrepareInference; low precision only).</summary>
    public bool ChannelsLast { get; private set; }

    /// <summary>The requested outputs (each B×dims, float32); stops after the last block needed.</summary>
    /// <remarks>
    /// Each stage's input is freed as soon as the next exists, so the peak holds about two activations of a
    /// batch (measured: a scope around the whole pass kept every activation, 4.5 GB of RSS at batch 50).
    /// </remarks>
    public Dictionary<InceptionOutput, Tensor> Run(Tensor input, IReadOnlyCollection<InceptionOutput> wanted)
    {
        var result = new Dictionary<InceptionOutput, Tensor>();
        int last = wanted.Max(o => Math.Min((int)o, 4));
        Tensor x = ChannelsLast ? Layout.ChannelsLast(input) : input;
        void Next(Func<Tensor, Tensor> stage)
        {
            Tensor y;
            using (var scope = NewDisposeScope()) y = stage(x).MoveToOuterDisposeScope();
            if (!ReferenceEquals(x, input)) x.Dispose();
            x = y;
        }
        void Keep(InceptionOutput o)
        {
            if (!wanted.Contains(o)) return;
            using var scope = NewDisposeScope();
            result[o] = functional.adaptive_avg_pool2d(x.to_type(ScalarType.Float32), 1).flatten(1).MoveToOuterDisposeScope();
        }

        // Block 0: input to maxpool 1.
        Next(Conv2d_1a_3x3.call);
        Next(Conv2d_2a_3x3.call);
        Next(Conv2d_2b_3x3.call);
        Next(t => functional.max_pool2d(t, 3, stride: 2));
        Keep(InceptionOutput.Pool64);
        if (last >= 1)
        {
            // Block 1: maxpool 1 to maxpool 2.
            Next(Conv2d_3b_1x1.call);
            Next(Conv2d_4a_3x3.call);
            Next(t => functional.max_pool2d(t, 3, stride: 2));
            Keep(InceptionOutput.Pool192);
        }
        if (last >= 2)
        {
            // Block 2: maxpool 2 to the aux classifier's input.
            foreach (var m in new Module<Tensor, Tensor>[] { Mixed_5b, Mixed_5c, Mixed_5d, Mixed_6a, Mixed_6b, Mixed_6c, Mixed_6d, Mixed_6e })
                Next(m.call);
            Keep(InceptionOutput.Pool768);
        }
        if (last >= 3)
        {
            // Block 3: to the final average pool (pool3).
            Next(Mixed_7a.call);
            Next(Mixed_7b.call);
            Next(Mixed_7c.call);
            Next(t => functional.adaptive_avg_pool2d(t.to_type(ScalarType.Float32), 1).flatten(1));   // pooled in fp32 whatever the dtype
            if (wanted.Contains(InceptionOutput.Pool2048)) result[InceptionOutput.Pool2048] = x.alias();
            if (last >= 4)
            {
                using var scope = NewDisposeScope();
                Tensor unbiased = x.mm(fc.weight!.t());
                if (wanted.Contains(InceptionOutput.Logits)) result[InceptionOutput.Logits] = (unbiased + fc.bias!).MoveToOuterDisposeScope();
                if (wanted.Contains(InceptionOutput.LogitsUnbiased)) result[InceptionOutput.LogitsUnbiased] = unbiased.MoveToOuterDisposeScope();
            }
        }
        if (!ReferenceEquals(x, input)) x.Dispose();
        return result;
    }

    public override Tensor forward(Tensor x)
    {
        var outputs = Run(x, [InceptionOutput.Pool2048]);
        return outputs[InceptionOutput.Pool2048];
    }

    /// <summary>
    /// The graph of <see cref="Run"/> in float32 (BatchNorm folded into every convolution): the
    /// preprocessed B×3×299×299 input → the requested outputs, by output, stopping after the last block needed.
    /// </summary>
    public Dictionary<InceptionOutput, string> WriteOnnx(OnnxGraph g, string x, IReadOnlyCollection<InceptionOutput> wanted)
    {
        var result = new Dictionary<InceptionOutput, string>();
        int last = wanted.Max(o => Math.Min((int)o, 4));
        string Pooled(string v, string name) => g.Flatten(g.GlobalAveragePool(v, name), name);
        void Keep(InceptionOutput o, string v)
        {
            if (wanted.Contains(o)) result[o] = Pooled(v, o.ToString());
        }
        x = Conv2d_2b_3x3.WriteOnnx(g, Conv2d_2a_3x3.WriteOnnx(g, Conv2d_1a_3x3.WriteOnnx(g, x, "Conv2d_1a_3x3"), "Conv2d_2a_3x3"), "Conv2d_2b_3x3");
        x = g.MaxPool(x, 3, 2, 0, "maxpool1");
        Keep(InceptionOutput.Pool64, x);
        if (last >= 1)
        {
            x = g.MaxPool(Conv2d_4a_3x3.WriteOnnx(g, Conv2d_3b_1x1.WriteOnnx(g, x, "Conv2d_3b_1x1"), "Conv2d_4a_3x3"), 3, 2, 0, "maxpool2");
            Keep(InceptionOutput.Pool192, x);
        }
        if (last >= 2)
        {
            x = Mixed_5d.WriteOnnx(g, Mixed_5c.WriteOnnx(g, Mixed_5b.WriteOnnx(g, x, "Mixed_5b"), "Mixed_5c"), "Mixed_5d");
            x = Mixed_6a.WriteOnnx(g, x, "Mixed_6a");
            foreach (var (m, n) in new[] { (Mixed_6b, "Mixed_6b"), (Mixed_6c, "Mixed_6c"), (Mixed_6d, "Mixed_6d"), (Mixed_6e, "Mixed_6e") })
                x = m.WriteOnnx(g, x, n);
            Keep(InceptionOutput.Pool768, x);
        }
        if (last >= 3)
        {
            x = Mixed_7c.WriteOnnx(g, Mixed_7b.WriteOnnx(g, Mixed_7a.WriteOnnx(g, x, "Mixed_7a"), "Mixed_7b"), "Mixed_7c");
            string pool3 = Pooled(x, "pool3");
            if (wanted.Contains(InceptionOutput.Pool2048)) result[InceptionOutput.Pool2048] = pool3;
            if (last >= 4)
            {
                string unbiased = g.Node("MatMul", [pool3, g.Initializer("fc.weight_t", fc.weight!.t())], "fc.unbiased");
                if (wanted.Contains(InceptionOutput.LogitsUnbiased)) result[InceptionOutput.LogitsUnbiased] = unbiased;
                if (wanted.Contains(InceptionOutput.Logits)) result[InceptionOutput.Logits] = g.Add(unbiased, g.Initializer("fc.bias", fc.bias!), "fc.biased");
            }
        }
        return result;
    }
}
