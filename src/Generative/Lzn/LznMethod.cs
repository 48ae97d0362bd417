// One training step of a Latent Zoning Network (docs/methods/lzn.md "Training"), or of one of its
// fair baselines:
//  * lzn: the batch's images (in [−1, 1], randomly mirrored) are encoded to anchors a_i; each image's
//    latent z_i is the image flow's endpoint from t0·ε_i + (1−t0)·a_i over all the batch's anchors
//    (Heun). The label loss pulls z_i into its class's zone: the label flow runs back from z_i over
//    the class anchors weighted by the batch's class frequencies, and L_label = −mean_i max over the
//    steps past the cut-off of π_{y_i}. The reconstruction loss is the rectified flow's
//    L_rec = mean ‖(x1 − x0) − D(x_t, t | z, one-hot y)‖², t ~ U[t_rec, 1], x0 ~ N(0, I), whose
//    gradient reaches the encoder through z and the latent ODE. L = L_rec + L_label.
//  * clf: the same encoder → SiLU → Linear(d, K), cross-entropy.
//  * rf: the same decoder conditioned on the one-hot label alone, the same L_rec.
using Gen.Pipeline;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Lzn;

public sealed class LznMethod : ITrainMethod
{
    public const string KindName = "lzn";

    private readonly LznNetwork _net;
    private readonly double _decoderEmaHalfLife;
    private readonly double _encoderLrScale;
    private readonly long _seed;

    /// <param name="decoderEmaHalfLife">The decoder's EMA half-life in images (0 = no average).</param>
    /// <param name="encoderLrScale">The encoder's learning rate relative to the run's (decoder, anchors and head).</param>
    public LznMethod(LznConfig config, Generator init, double decoderEmaHalfLife, double encoderLrScale, long seed)
    {
        _seed = seed;
        config.Validate();
        Config = config;
        _net = new LznNetwork(config, init);
        _decoderEmaHalfLife = decoderEmaHalfLife;
        _encoderLrScale = encoderLrScale;
    }

    public LznConfig Config { get; }
    public LznNetwork Network => _net;
    public string Kind => Config.Kind;
    public string ConfigJson => Json.Serialize(Config, indented: false);
    public nn.Module Model => _net;

    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["gen.lzn.variant"] = Config.Variant,
        ["gen.seed"] = _seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["gen.lzn.params"] = _net.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public IReadOnlyList<string> ProgressMetrics => Config.Variant switch
    {
        LznConfig.Joint => ["rec", "label"],
        LznConfig.Rf => ["rec"],
        _ => ["train_acc"],
    };

    public IReadOnlyList<ParamGroupSpec> ParamGroups()
    {
        var all = _net.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        var encoder = all.Where(p => p.name.StartsWith("encoder.", StringComparison.Ordinal)).ToList();
        var rest = all.Where(p => !p.name.StartsWith("encoder.", StringComparison.Ordinal)).ToList();
        var groups = new List<ParamGroupSpec>();
        if (encoder.Count > 0) groups.Add(new ParamGroupSpec("encoder", encoder, LrScale: _encoderLrScale));
        if (rest.Count > 0) groups.Add(new ParamGroupSpec("decoder-anchors-head", rest));
        return groups;
    }

    /// <summary>Only the decoder is averaged (the sampler uses it); encoder, anchors and head are kept as
    /// trained, since classification needs the encoder and the anchors of the same step.</summary>
    public IReadOnlyList<EmaRule> EmaRules => [new EmaRule("decoder.", _decoderEmaHalfLife)];

    public StepOutput Step(Batch batch, StepContext ctx)
    {
        Generator g = ctx.Generator;
        Tensor images = Config.Flip ? Pipeline.Data.Augment.HorizontalFlip(batch.Images, 0.5, g) : batch.Images;
        Tensor x1 = images.mul(2).sub(1);
        Tensor labels = batch.Labels;
        return Config.Variant switch
        {
            LznConfig.Clf => CrossEntropy(x1, labels),
            LznConfig.Rf => LabelOnlyFlow(x1, labels, g),
            _ => Joint(x1, labels, g),
        };
    }

    private StepOutput Joint(Tensor x1, Tensor labels, Generator g)
    {
        long b = x1.shape[0];
        if (b < Config.Classes)
            throw new GenInputException($"an lzn batch must hold at least one image per class ({Config.Classes}); got {b}: raise --batch");
        Tensor anchors = _net.encoder!.call(x1);
        Tensor z = LznCore.ImageLatents(anchors, randn([b, Config.LatentDim], generator: g), Config);
        Tensor logW = LatentFlow.LogWeightsFromCounts(labels.bincount(null, Config.Classes));
        Tensor label = LatentFlow.LabelLoss(z, labels, _net.anchors!, logW, Config.LabelFlowSteps, Config.LabelFlowT0, Config.LabelLossCut);
        Tensor rec = Reconstruction(x1, z, labels, g);
        return new StepOutput(rec.add(label), new Dictionary<string, Tensor>
        {
            ["rec"] = rec.detach(),
            ["label"] = label.detach(),
            ["z_std"] = z.detach().std(),
        });
    }

    private StepOutput CrossEntropy(Tensor x1, Tensor labels)
    {
        Tensor logits = _net.head!.call(nn.functional.silu(_net.encoder!.call(x1)));
        Tensor ce = nn.functional.cross_entropy(logits, labels);
        Tensor acc = logits.detach().argmax(1).eq(labels).to_type(ScalarType.Float32).mean();
        return new StepOutput(ce, new Dictionary<string, Tensor> { ["train_acc"] = acc });
    }

    private StepOutput LabelOnlyFlow(Tensor x1, Tensor labels, Generator g)
    {
        Tensor rec = Reconstruction(x1, zeros(new long[] { x1.shape[0], 0 }), labels, g);
        return new StepOutput(rec, new Dictionary<string, Tensor> { ["rec"] = rec.detach() });
    }

    /// <summary>The rectified-flow loss of the decoder at random times.</summary>
    private Tensor Reconstruction(Tensor x1, Tensor z, Tensor labels, Generator g)
    {
        long b = x1.shape[0];
        Tensor t = rand([b], generator: g).mul(1 - Config.RecT0).add(Config.RecT0);
        Tensor x0 = randn(x1.shape, generator: g);
        Tensor xt = LznCore.Interpolate(x0, x1, t);
        Tensor pred = _net.decoder!.call(xt, t, z, LznCore.OneHot(labels, Config.Classes));
        return x1.sub(x0).sub(pred).square().mean();
    }

    public void Dispose() => _net.Dispose();
}

/// <summary>The computations training and inference share.</summary>
public static class LznCore
{
    public static Tensor OneHot(Tensor labels, int classes) => nn.functional.one_hot(labels, classes).to_type(ScalarType.Float32);

    /// <summary>The rectified flow's point x_t = t·x1 + (1−t)·x0 (per-image times t, B).</summary>
    public static Tensor Interpolate(Tensor x0, Tensor x1, Tensor t)
    {
        Tensor tt = t.view(-1, 1, 1, 1);
        return tt.mul(x1).add(tt.neg().add(1).mul(x0));
    }

    /// <summary>Euler integration of dx/dt = velocity(x, t) from t0 to 1 in uniform steps (t as a B vector).</summary>
    public static Tensor Euler(Func<Tensor, Tensor, Tensor> velocity, Tensor x0, double t0, int steps)
    {
        Tensor x = x0;
        double h = (1 - t0) / steps;
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            Tensor t = full(x.shape[0], t0 + s * h, ScalarType.Float32);
            x = x.add(velocity(x, t).mul(h)).MoveToOuterDisposeScope();
        }
        return x;
    }

    /// <summary>The latents of a batch's anchors (B×d): each item's image-flow endpoint from
    /// t0·noise_i + (1−t0)·a_i over all the batch's anchors with equal weights (Heun).</summary>
    public static Tensor ImageLatents(Tensor anchors, Tensor noise, LznConfig c)
    {
        using var scope = NewDisposeScope();
        Tensor start = LatentFlow.Start(anchors, noise, c.ImageFlowT0);
        Tensor logW = LatentFlow.UniformLogWeights(anchors.shape[0], anchors.device);
        return LatentFlow.Forward(start, c.ImageFlowT0, anchors, logW, c.ImageFlowSteps, heun: true).MoveToOuterDisposeScope();
    }
}
