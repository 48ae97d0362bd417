// The small noise-conditioned UNet of docs/methods/diffusion.md §2.8: the DDPM++ layout as NVlabs/edm
// training/networks.py `SongUNet` builds it (standard encoder/decoder, positional noise embedding
// with endpoint, resample filter [1,1], resample_proj, skip_scale √½, GroupNorm eps 1e-6, additive
// embedding, 1-head attention), written for TorchSharp. Parameter names equal SongUNet's state_dict
// keys (`map_layer0.weight`, `enc.32x32_block0.conv0.weight`, `dec.32x32_aux_conv.bias`, …), so
// weights move both ways; edm's constant `resample_filter` buffers are not stored (the [1,1] filter
// is 2×2 average pooling down and nearest-neighbour ×2 up, computed directly here).
// Attention levels are counted from the top (level 0 = input resolution) instead of edm's absolute
// resolutions, because the LowDiff network runs the same weights at 8², 16² and 32² (docs/methods/diffusion.md §3.2).
using Gen.Pipeline.Models;
using Gen.Pipeline.Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace Gen.Generative.Diffusion;

/// <summary>Weight initialisation of edm/training/networks.py `weight_init` (xavier_uniform) from a Generator.</summary>
internal static class EdmInit
{
    public static void XavierUniform(Tensor w, Tensor? b, long fanIn, long fanOut, double initWeight, Generator g)
    {
        using var _ = no_grad();
        double bound = Math.Sqrt(6.0 / (fanIn + fanOut)) * initWeight;
        w.uniform_(-bound, bound, g);
        b?.zero_(); // init_bias = 0 in every SongUNet layer
    }

    public static Linear Linear(long inF, long outF, bool bias, double initWeight, Generator g)
    {
        var l = nn.Linear(inF, outF, hasBias: bias);
        XavierUniform(l.weight!, l.bias, inF, outF, initWeight, g);
        return l;
    }

    /// <summary>A convolution built by the foundation (narrow ones zero-padded: docs/platform.md §3).</summary>
    public static Module<Tensor, Tensor> Conv(long inC, long outC, long kernel, double initWeight, Generator g)
    {
        var conv = Gen.Pipeline.Models.Conv.Conv2d(inC, outC, kernel, padding: kernel / 2);
        var (w, b) = Gen.Pipeline.Models.Conv.Parameters(conv);
        XavierUniform(w, b, inC * kernel * kernel, outC * kernel * kernel, initWeight, g);
        return conv;
    }

    /// <summary>The ONNX node of a convolution made by <see cref="Conv"/> (stride 1, "same" padding).</summary>
    public static string WriteConv(OnnxGraph g, Module<Tensor, Tensor> conv, string x, string prefix)
    {
        var (w, b) = Gen.Pipeline.Models.Conv.Parameters(conv);
        return g.Conv(x, w, b, 1, w.shape[2] / 2, prefix);
    }
}

/// <summary>edm `GroupNorm`: groups = min(32, C/4).</summary>
public sealed class EdmGroupNorm : Module<Tensor, Tensor>, IOnnxModule
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly long _groups;
    private readonly double _eps;

    public EdmGroupNorm(long channels, double eps = 1e-6) : base(nameof(EdmGroupNorm))
    {
        _groups = Math.Min(32, channels / 4);
        _eps = eps;
        weight = new Parameter(ones(channels));
        bias = new Parameter(zeros(channels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => F.group_norm(x, _groups, weight, bias, _eps);

    public string WriteOnnx(OnnxGraph g, string input, string prefix) => g.GroupNorm(input, _groups, weight, bias, _eps, prefix);
}

/// <summary>edm `UNetBlock` with SongUNet's arguments (adaptive_scale=False, resample_proj=True).</summary>
public sealed class UNetBlock : Module<Tensor, Tensor, Tensor>
{
    private readonly EdmGroupNorm norm0;
    private readonly Module<Tensor, Tensor> conv0;
    private readonly Linear affine;
    private readonly EdmGroupNorm norm1;
    private readonly Module<Tensor, Tensor> conv1;
    private readonly Module<Tensor, Tensor>? skip;
    private readonly EdmGroupNorm? norm2;
    private readonly Module<Tensor, Tensor>? qkv;
    private readonly Module<Tensor, Tensor>? proj;
    private readonly bool _up, _down, _attention;
    private readonly double _dropout;
    private static readonly double SkipScale = Math.Sqrt(0.5); // SongUNet block_kwargs skip_scale

    public UNetBlock(long inC, long outC, long embC, Generator g, bool up = false, bool down = false,
                     bool attention = false, double dropout = 0) : base(nameof(UNetBlock))
    {
        InChannels = inC;
        OutChannels = outC;
        _up = up;
        _down = down;
        _attention = attention;
        _dropout = dropout;
        // SongUNet: init = xavier_uniform, init_zero = xavier_uniform × 1e-5, init_attn = xavier_uniform × √0.2.
        norm0 = new EdmGroupNorm(inC);
        conv0 = EdmInit.Conv(inC, outC, 3, 1, g);
        affine = EdmInit.Linear(embC, outC, true, 1, g);
        norm1 = new EdmGroupNorm(outC);
        conv1 = EdmInit.Conv(outC, outC, 3, 1e-5, g);
        if (outC != inC || up || down) skip = EdmInit.Conv(inC, outC, 1, 1, g);
        if (attention)
        {
            norm2 = new EdmGroupNorm(outC);
            qkv = EdmInit.Conv(outC, outC * 3, 1, Math.Sqrt(0.2), g);
            proj = EdmInit.Conv(outC, outC, 1, 1e-5, g);
        }
        RegisterComponents();
    }

    public long InChannels { get; }
    public long OutChannels { get; }

    private Tensor Resample(Tensor x) =>
        _down ? F.avg_pool2d(x, 2) : _up ? LowDiffCascade.Up(x) : x;

    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        Tensor orig = x;
        Tensor h = conv0.call(Resample(F.silu(norm0.call(x))));
        Tensor p = affine.call(emb).unsqueeze(2).unsqueeze(3).to(h.dtype);
        h = F.silu(norm1.call(h.add(p)));
        if (_dropout > 0 && training) h = F.dropout(h, _dropout, training);
        h = conv1.call(h);
        h = h.add(skip is not null ? skip.call(Resample(orig)) : orig).mul(SkipScale);
        if (_attention)
        {
            long b = h.shape[0], c = h.shape[1], hw = h.shape[2] * h.shape[3];
            // One head (SongUNet num_heads=1); weights in fp32 as edm's AttentionOp.
            Tensor[] qkvs = qkv!.call(norm2!.call(h)).reshape(b, c, 3, hw).unbind(2);
            Tensor q = qkvs[0].to(ScalarType.Float32), k = qkvs[1].to(ScalarType.Float32);
            Tensor w = einsum("ncq,nck->nqk", q, k.div(Math.Sqrt(c))).softmax(2).to(h.dtype);
            Tensor a = einsum("nqk,nck->ncq", w, qkvs[2]);
            h = proj!.call(a.reshape(h.shape)).add(h).mul(SkipScale);
        }
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The block's inference graph (dropout is the identity), the same operations as <see cref="forward"/>.</summary>
    public string WriteOnnx(OnnxGraph g, string x, string emb, string prefix)
    {
        string Resampled(string v) => _down ? g.AvgPool2(v, prefix + ".down") : _up ? g.Upsample2(v, prefix + ".up") : v;
        string h = EdmInit.WriteConv(g, conv0, Resampled(g.Silu(norm0.WriteOnnx(g, x, prefix + ".norm0"), prefix + ".norm0")), prefix + ".conv0");
        string p = g.Reshape(g.Linear(emb, affine, prefix + ".affine"), prefix + ".affine", 0, -1, 1, 1);
        h = g.Silu(norm1.WriteOnnx(g, g.Add(h, p, prefix + ".emb"), prefix + ".norm1"), prefix + ".norm1");
        h = EdmInit.WriteConv(g, conv1, h, prefix + ".conv1");
        string skipped = skip is not null ? EdmInit.WriteConv(g, skip, Resampled(x), prefix + ".skip") : x;
        h = g.Scale(g.Add(h, skipped, prefix + ".res"), SkipScale, prefix + ".skip_scale");
        if (!_attention) return h;
        // One head: q, k, v are B×C×(HW); w = softmax_k(qᵀk/√C); a = v·wᵀ (B×C×HW); then proj and the residual.
        long c = OutChannels;
        string qkvs = g.Reshape(EdmInit.WriteConv(g, qkv!, norm2!.WriteOnnx(g, h, prefix + ".norm2"), prefix + ".qkv"), prefix + ".qkv", 0, c, 3, -1);
        string Part(int i) => g.Node("Gather", [qkvs, g.Int64Scalar($"{prefix}.qkv{i}.index", i)], $"{prefix}.qkv{i}", OnnxGraph.Int("axis", 2));
        string q = Part(0), k = Part(1), v = Part(2);
        string logits = g.Node("MatMul", [g.Transpose(q, prefix + ".q", 0, 2, 1), g.Scale(k, 1 / Math.Sqrt(c), prefix + ".k")], prefix + ".logits");
        string w = g.Node("Softmax", [logits], prefix + ".softmax", OnnxGraph.Int("axis", 2));
        string a = g.Node("MatMul", [v, g.Transpose(w, prefix + ".w", 0, 2, 1)], prefix + ".attend");
        string projected = EdmInit.WriteConv(g, proj!, g.ReshapeLike(a, h, prefix + ".attend"), prefix + ".proj");
        return g.Scale(g.Add(projected, h, prefix + ".attn_res"), SkipScale, prefix + ".attn_scale");
    }
}

/// <summary>
/// A container of named child modules (SongUNet's torch.nn.ModuleDict `enc`/`dec`). TorchSharp's
/// ModuleDict fails in Module.to(dtype) ("An item with the same key has already been added. Key:
/// Item"), which bf16 sampling needs, so the children are registered directly by name.
/// </summary>
public sealed class NamedBlocks : Module
{
    public NamedBlocks() : base(nameof(NamedBlocks)) { }

    public void Add(string name, Module m) => register_module(name, m);
}

/// <summary>
/// SongUNet (DDPM++ layout) for small images. forward(x, noise_labels, class_labels, augment_labels)
/// returns F_θ with <see cref="UNetConfig.OutChannels"/> channels at the input's resolution.
/// </summary>
public sealed class SongUNet : Module
{
    private readonly Linear? map_label;
    private readonly Linear? map_augment;
    private readonly Linear map_layer0;
    private readonly Linear map_layer1;
    private readonly NamedBlocks enc;
    private readonly NamedBlocks dec;
    private readonly int _noiseChannels;
    private readonly List<(string Name, Module M)> _enc = [];
    private readonly List<(string Name, Module M)> _dec = [];

    public SongUNet(UNetConfig cfg, Generator g) : base(nameof(SongUNet))
    {
        cfg.Validate();
        Config = cfg;
        int C = cfg.ModelChannels;
        long embC = (long)C * cfg.ChannelMultEmb;
        _noiseChannels = C; // channel_mult_noise = 1 (DDPM++)
        if (cfg.LabelDim > 0) map_label = EdmInit.Linear(cfg.LabelDim, _noiseChannels, true, 1, g);
        if (cfg.AugmentDim > 0) map_augment = EdmInit.Linear(cfg.AugmentDim, _noiseChannels, false, 1, g);
        map_layer0 = EdmInit.Linear(_noiseChannels, embC, true, 1, g);
        map_layer1 = EdmInit.Linear(embC, embC, true, 1, g);

        // Encoder (names carry the resolution at the configured ImgResolution, as SongUNet's keys).
        enc = new NamedBlocks();
        long cout = cfg.InChannels;
        var skips = new List<long>();
        for (int level = 0; level < cfg.ChannelMult.Length; level++)
        {
            int res = cfg.ImgResolution >> level;
            if (level == 0)
            {
                long cin = cout;
                cout = C;
                Add(_enc, enc, $"{res}x{res}_conv", EdmInit.Conv(cin, cout, 3, 1, g));
            }
            else Add(_enc, enc, $"{res}x{res}_down", new UNetBlock(cout, cout, embC, g, down: true, dropout: cfg.Dropout));
            skips.Add(cout);
            for (int idx = 0; idx < cfg.NumBlocks; idx++)
            {
                long cin = cout;
                cout = (long)C * cfg.ChannelMult[level];
                bool attn = cfg.AttnLevels.Contains(level);
                Add(_enc, enc, $"{res}x{res}_block{idx}", new UNetBlock(cin, cout, embC, g, attention: attn, dropout: cfg.Dropout));
                skips.Add(cout);
            }
        }

        // Decoder.
        dec = new NamedBlocks();
        for (int level = cfg.ChannelMult.Length - 1; level >= 0; level--)
        {
            int res = cfg.ImgResolution >> level;
            if (level == cfg.ChannelMult.Length - 1)
            {
                Add(_dec, dec, $"{res}x{res}_in0", new UNetBlock(cout, cout, embC, g, attention: true, dropout: cfg.Dropout));
                Add(_dec, dec, $"{res}x{res}_in1", new UNetBlock(cout, cout, embC, g, dropout: cfg.Dropout));
            }
            else Add(_dec, dec, $"{res}x{res}_up", new UNetBlock(cout, cout, embC, g, up: true, dropout: cfg.Dropout));
            for (int idx = 0; idx <= cfg.NumBlocks; idx++)
            {
                long cin = cout + skips[^1];
                skips.RemoveAt(skips.Count - 1);
                cout = (long)C * cfg.ChannelMult[level];
                bool attn = idx == cfg.NumBlocks && cfg.AttnLevels.Contains(level);
                Add(_dec, dec, $"{res}x{res}_block{idx}", new UNetBlock(cin, cout, embC, g, attention: attn, dropout: cfg.Dropout));
            }
            if (level == 0)
            {
                Add(_dec, dec, $"{res}x{res}_aux_norm", new EdmGroupNorm(cout));
                Add(_dec, dec, $"{res}x{res}_aux_conv", EdmInit.Conv(cout, cfg.OutChannels, 3, 1e-5, g));
            }
        }
        RegisterComponents();
    }

    public UNetConfig Config { get; }

    private static void Add(List<(string, Module)> order, NamedBlocks dict, string name, Module m)
    {
        order.Add((name, m));
        dict.Add(name, m);
    }

    /// <summary>edm PositionalEmbedding(endpoint=True) followed by SongUNet's sin/cos swap: [sin, cos].</summary>
    private Tensor NoiseEmbedding(Tensor noiseLabels, ScalarType dtype)
    {
        int half = _noiseChannels / 2;
        Tensor freqs = arange(half, ScalarType.Float32, noiseLabels.device).div(half - 1);
        freqs = pow(1.0 / 10000, freqs);
        Tensor x = noiseLabels.to(ScalarType.Float32).outer(freqs);
        return cat([x.sin(), x.cos()], 1).to(dtype);
    }

    /// <summary>F_θ(x; c_noise, labels, augment labels). Labels are one-hot (or zero = unconditional).</summary>
    public Tensor forward(Tensor x, Tensor noiseLabels, Tensor? classLabels, Tensor? augmentLabels)
    {
        using var scope = NewDisposeScope();
        ScalarType dtype = map_layer0.weight!.dtype;
        Tensor emb = NoiseEmbedding(noiseLabels, dtype);
        if (map_label is not null)
        {
            Tensor labels = classLabels ?? zeros(x.shape[0], Config.LabelDim, dtype: dtype, device: x.device);
            emb = emb.add(map_label.call(labels.to(dtype).mul(Math.Sqrt(Config.LabelDim))));
        }
        if (map_augment is not null && augmentLabels is not null)
            emb = emb.add(map_augment.call(augmentLabels.to(dtype)));
        emb = F.silu(map_layer0.call(emb));
        emb = F.silu(map_layer1.call(emb));

        var skipStack = new List<Tensor>();
        Tensor h = x.to(dtype);
        foreach (var (_, m) in _enc)
        {
            h = m is UNetBlock b ? b.call(h, emb) : ((Module<Tensor, Tensor>)m).call(h);
            skipStack.Add(h);
        }
        Tensor? tmp = null;
        foreach (var (name, m) in _dec)
        {
            if (name.EndsWith("_aux_norm", StringComparison.Ordinal)) tmp = ((Module<Tensor, Tensor>)m).call(h);
            else if (name.EndsWith("_aux_conv", StringComparison.Ordinal)) tmp = ((Module<Tensor, Tensor>)m).call(F.silu(tmp!));
            else
            {
                var b = (UNetBlock)m;
                if (h.shape[1] != b.InChannels)
                {
                    h = cat([h, skipStack[^1]], 1);
                    skipStack.RemoveAt(skipStack.Count - 1);
                }
                h = b.call(h, emb);
            }
        }
        return tmp!.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The network's inference graph: <paramref name="x"/> (B×C×H×W, any H = W the network runs at),
    /// <paramref name="noiseLabels"/> (B), optional one-hot class labels (B×K) and augment labels; the
    /// same operations as <see cref="forward"/>.
    /// </summary>
    public string WriteOnnx(OnnxGraph g, string x, string noiseLabels, string? classLabels, string? augmentLabels)
    {
        // Positional embedding: c_noise ⊗ freqs, then [sin, cos].
        int half = _noiseChannels / 2;
        using var freqs = pow(1.0 / 10000, arange(half, ScalarType.Float32).div(half - 1)).reshape(1, half);
        string outer = g.Node("MatMul", [g.Reshape(noiseLabels, "emb.noise", -1, 1), g.Initializer("emb.freqs", freqs)], "emb.outer");
        string emb = g.Concat([g.Node("Sin", [outer], "emb.sin"), g.Node("Cos", [outer], "emb.cos")], 1, "emb");
        if (map_label is not null)
        {
            if (classLabels is null) throw new InvalidOperationException("a conditional network's graph needs the class-label input");
            emb = g.Add(emb, g.Linear(g.Scale(classLabels, Math.Sqrt(Config.LabelDim), "map_label.in"), map_label, "map_label"), "emb.label");
        }
        if (map_augment is not null && augmentLabels is not null)
            emb = g.Add(emb, g.Node("MatMul", [augmentLabels, g.Initializer("map_augment.weight_t", map_augment.weight!.t())], "map_augment"), "emb.augment");
        emb = g.Silu(g.Linear(emb, map_layer0, "map_layer0"), "map_layer0");
        emb = g.Silu(g.Linear(emb, map_layer1, "map_layer1"), "map_layer1");

        // h's channel count is tracked beside it (forward reads h.shape[1]).
        var skips = new List<(string Value, long Channels)>();
        string h = x;
        long hc = 0;
        foreach (var (name, m) in _enc)
        {
            if (m is UNetBlock b) (h, hc) = (b.WriteOnnx(g, h, emb, "enc." + name), b.OutChannels);
            else
            {
                var conv = (Module<Tensor, Tensor>)m;
                (h, hc) = (EdmInit.WriteConv(g, conv, h, "enc." + name), Gen.Pipeline.Models.Conv.Parameters(conv).Weight.shape[0]);
            }
            skips.Add((h, hc));
        }
        string? tmp = null;
        foreach (var (name, m) in _dec)
        {
            if (name.EndsWith("_aux_norm", StringComparison.Ordinal)) tmp = ((EdmGroupNorm)m).WriteOnnx(g, h, "dec." + name);
            else if (name.EndsWith("_aux_conv", StringComparison.Ordinal)) tmp = EdmInit.WriteConv(g, (Module<Tensor, Tensor>)m, g.Silu(tmp!, "dec." + name), "dec." + name);
            else
            {
                var b = (UNetBlock)m;
                if (hc != b.InChannels)
                {
                    h = g.Concat([h, skips[^1].Value], 1, "dec." + name + ".skip");
                    skips.RemoveAt(skips.Count - 1);
                }
                (h, hc) = (b.WriteOnnx(g, h, emb, "dec." + name), b.OutChannels);
            }
        }
        return tmp!;
    }
}
