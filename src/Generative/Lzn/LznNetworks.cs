// The networks of a Latent Zoning Network, sized for a CPU (docs/methods/lzn.md "Networks"): the
// official code uses NCSN++ encoders and decoders about 100× larger; these keep their structure.
//  * LznEncoder: image in [−1, 1] → anchor a ∈ R^d. Conv stem, then per level a stride-2 4×4 conv and a
//    3×3 conv, each followed by GroupNorm and SiLU; one head: 1×1 conv → SiLU → flatten → Linear →
//    SiLU → Linear d (the official heads' shape).
//  * LznDecoder: the rectified-flow velocity D(x_t, t | z, y). A U-Net with one residual block per
//    level, a middle block, and additive skip connections; the conditioning MLP of [z, one-hot y,
//    sinusoidal embedding of 999t] is added in every residual block, so the decoder also sees the label
//    directly. Upsampling is a 3×3 conv at the low resolution, then nearest (not ConvTranspose2d, whose
//    backward was slow in libtorch on this CPU; the conv before the upsampling and the additive skips
//    keep the decoder's cost near the encoder's, as docs/methods/lzn.md "Networks" measures).
//  * LznNetwork: the parts a variant has (encoder, decoder, K label anchors ~ N(0, I), or the
//    cross-entropy baseline's linear head), in one module so checkpoints and EMA cover them all.
using Gen.Pipeline.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Generative.Lzn;

internal static class Norms
{
    /// <summary>GroupNorm with its affine parameters at (1, 0). TorchSharp 0.107's GroupNorm leaves them
    /// uninitialised (measured: garbage up to 1e24 and NaN in a fresh module), so they are set here.</summary>
    public static GroupNorm Group(int groups, long channels)
    {
        var norm = GroupNorm(groups, channels);
        using var _ = no_grad();
        norm.weight!.fill_(1);
        norm.bias!.zero_();
        return norm;
    }
}

/// <summary>Conv → GroupNorm → SiLU.</summary>
internal sealed class ConvNormAct : Module<Tensor, Tensor>
{
    private readonly Module<Tensor, Tensor> conv;
    private readonly GroupNorm norm;

    public ConvNormAct(long inCh, long outCh, long kernel, long stride, long padding, int groups) : base(nameof(ConvNormAct))
    {
        conv = Conv.Conv2d(inCh, outCh, kernel, stride, padding);
        norm = Norms.Group(groups, outCh);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => functional.silu(norm.call(conv.call(x)));
}

public sealed class LznEncoder : Module<Tensor, Tensor>
{
    private readonly Sequential trunk;
    private readonly Module<Tensor, Tensor> head_conv;
    private readonly Linear head_fc1, head_fc2;

    public LznEncoder(LznConfig c) : base(nameof(LznEncoder))
    {
        int[] w = c.EncoderWidths;
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("stem", new ConvNormAct(c.InChannels, w[0], 3, 1, 1, c.Groups)) };
        for (int i = 1; i < w.Length; i++)
        {
            layers.Add(($"down{i}", new ConvNormAct(w[i - 1], w[i], 4, 2, 1, c.Groups)));
            layers.Add(($"conv{i}", new ConvNormAct(w[i], w[i], 3, 1, 1, c.Groups)));
        }
        trunk = Sequential(layers);
        int s = c.ImageSize / 4;
        head_conv = Conv.Conv2d(w[^1], c.HeadChannels, 1);
        head_fc1 = Linear((long)c.HeadChannels * s * s, c.HeadHidden);
        head_fc2 = Linear(c.HeadHidden, c.LatentDim);
        RegisterComponents();
    }

    /// <summary>The trunk's last feature map (B×W×H/4×W/4).</summary>
    public Tensor Trunk(Tensor x) => trunk.call(x);

    /// <summary>The head's hidden layer (after its SiLU).</summary>
    public Tensor Hidden(Tensor trunkMap) => functional.silu(head_fc1.call(functional.silu(head_conv.call(trunkMap)).flatten(1)));

    public Tensor Latent(Tensor hidden) => head_fc2.call(hidden);

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return Latent(Hidden(Trunk(x))).MoveToOuterDisposeScope();
    }
}

/// <summary>GroupNorm → SiLU → conv, + conditioning, GroupNorm → SiLU → conv, + skip.</summary>
internal sealed class CondResBlock : Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm norm1, norm2;
    private readonly Module<Tensor, Tensor> conv1, conv2;
    private readonly Module<Tensor, Tensor>? skip;
    private readonly Linear cond;

    public CondResBlock(long inCh, long outCh, long condDim, int groups) : base(nameof(CondResBlock))
    {
        norm1 = Norms.Group(groups, inCh);
        conv1 = Conv.Conv2d(inCh, outCh, 3, padding: 1);
        cond = Linear(condDim, outCh);
        norm2 = Norms.Group(groups, outCh);
        conv2 = Conv.Conv2d(outCh, outCh, 3, padding: 1);
        if (inCh != outCh) skip = Conv.Conv2d(inCh, outCh, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x, Tensor emb)
    {
        using var scope = NewDisposeScope();
        Tensor h = conv1.call(functional.silu(norm1.call(x)));
        h = h.add(cond.call(emb).unsqueeze(-1).unsqueeze(-1));
        h = conv2.call(functional.silu(norm2.call(h)));
        return h.add(skip is null ? x : skip.call(x)).MoveToOuterDisposeScope();
    }
}

public sealed class LznDecoder : Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    private readonly int _latentDim, _timeDim;
    private readonly Linear cond_fc1, cond_fc2;
    private readonly Module<Tensor, Tensor> conv_in, down1, down2, up1_conv, up2_conv, conv_out;
    private readonly CondResBlock enc0, enc1, mid, dec2, dec1, dec0;
    private readonly GroupNorm norm_out;

    /// <param name="latentDim">The size of z (0: the label-only baseline, conditioned on y and t alone).</param>
    public LznDecoder(LznConfig c, int latentDim) : base(nameof(LznDecoder))
    {
        _latentDim = latentDim;
        _timeDim = c.TimeEmbedDim;
        int[] w = c.DecoderWidths;
        int g = c.Groups;
        cond_fc1 = Linear(latentDim + c.Classes + c.TimeEmbedDim, c.CondDim);
        cond_fc2 = Linear(c.CondDim, c.CondDim);
        conv_in = Conv.Conv2d(c.InChannels, w[0], 3, padding: 1);
        enc0 = new CondResBlock(w[0], w[0], c.CondDim, g);
        down1 = Conv.Conv2d(w[0], w[1], 3, 2, 1);
        enc1 = new CondResBlock(w[1], w[1], c.CondDim, g);
        down2 = Conv.Conv2d(w[1], w[2], 3, 2, 1);
        mid = new CondResBlock(w[2], w[2], c.CondDim, g);
        dec2 = new CondResBlock(w[2], w[2], c.CondDim, g);
        up2_conv = Conv.Conv2d(w[2], w[1], 3, padding: 1);
        dec1 = new CondResBlock(w[1], w[1], c.CondDim, g);
        up1_conv = Conv.Conv2d(w[1], w[0], 3, padding: 1);
        dec0 = new CondResBlock(w[0], w[0], c.CondDim, g);
        norm_out = Norms.Group(g, w[0]);
        conv_out = Conv.Conv2d(w[0], c.InChannels, 3, padding: 1);
        RegisterComponents();
    }

    /// <summary>Sinusoidal embedding of 999t: [sin(999t·f_k), cos(999t·f_k)], f_k = 10000^(−k/(half−1)).</summary>
    private Tensor TimeEmbedding(Tensor t)
    {
        int half = _timeDim / 2;
        Tensor freqs = pow(1.0 / 10000, arange(half, ScalarType.Float32, t.device).div(Math.Max(half - 1, 1)));
        Tensor x = t.mul(999).unsqueeze(1).mul(freqs.unsqueeze(0));
        return cat([x.sin(), x.cos()], 1);
    }

    /// <summary>The velocity at x_t (B×C×H×W in [−1, 1] scale), times t (B), latents z (B×d, or
    /// ignored for the label-only baseline) and one-hot labels (B×K).</summary>
    public override Tensor forward(Tensor x, Tensor t, Tensor z, Tensor oneHot)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        if (_latentDim > 0) parts.Add(z);
        parts.Add(oneHot);
        parts.Add(TimeEmbedding(t));
        Tensor emb = functional.silu(cond_fc2.call(functional.silu(cond_fc1.call(cat(parts, 1)))));

        Tensor h0 = enc0.call(conv_in.call(x), emb);
        Tensor h1 = enc1.call(down1.call(h0), emb);
        Tensor h2 = down2.call(h1);
        Tensor u = dec2.call(mid.call(h2, emb).add(h2), emb);
        u = functional.interpolate(up2_conv.call(u), [h1.shape[2], h1.shape[3]], mode: InterpolationMode.Nearest);
        u = dec1.call(u.add(h1), emb);
        u = functional.interpolate(up1_conv.call(u), [h0.shape[2], h0.shape[3]], mode: InterpolationMode.Nearest);
        u = dec0.call(u.add(h0), emb);
        return conv_out.call(functional.silu(norm_out.call(u))).MoveToOuterDisposeScope();
    }
}

public sealed class LznNetwork : Module
{
    public readonly LznEncoder? encoder;
    public readonly LznDecoder? decoder;
    public readonly Parameter? anchors;
    public readonly Linear? head;

    public LznNetwork(LznConfig config, Generator? init = null) : base(nameof(LznNetwork))
    {
        Config = config;
        if (config.HasEncoder) encoder = new LznEncoder(config);
        if (config.HasDecoder) decoder = new LznDecoder(config, config.Variant == LznConfig.Rf ? 0 : config.LatentDim);
        if (config.HasAnchors) anchors = Parameter(zeros(config.Classes, config.LatentDim));
        if (config.Variant == LznConfig.Clf) head = Linear(config.LatentDim, config.Classes);
        RegisterComponents();
        if (init is not null) Initialize(init);
    }

    public LznConfig Config { get; }

    public long ParameterCount => parameters().Sum(p => p.numel());

    /// <summary>PyTorch's default U(±1/√fan_in) for every conv and linear layer, GroupNorm at (1, 0), and
    /// the label anchors N(0, I), all drawn from one generator in registration order.</summary>
    private void Initialize(Generator g)
    {
        using var _ = no_grad();
        var all = named_parameters().ToList();
        var byName = all.ToDictionary(q => q.name, q => q.parameter, StringComparer.Ordinal);
        foreach (var (name, p) in all)
        {
            if (name == "anchors") { p.normal_(0, 1, g); continue; }
            if (p.dim() < 2) continue;                                   // biases follow their weight
            Init.DefaultUniform(p, byName.GetValueOrDefault(name[..^"weight".Length] + "bias"), g);
        }
    }
}
