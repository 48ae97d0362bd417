// An lzn checkpoint as a classifier, a sampler and an encoder (docs/methods/lzn.md "Inference").
//  * Classify (image encoder → latent → label flow → nearest anchor): the images are taken in
//    consecutive chunks of ClassifyBatch; each chunk's anchors define the image flow, whose endpoint
//    z_i (from (1−t0)·a_i + t0·s·ε_i, s = PriorStd) is carried back by the label flow with equal class
//    weights; the scores are −½‖x_0 − c_k‖², so the arg-max is the nearest label anchor. The answer is
//    batch-relative; for a fixed image order and PriorStd 0 it is deterministic.
//  * Sample (label encoder → latent → image decoder): for class k, z = the label flow's endpoint from
//    t0·ε + (1−t0)·c_k (Heun), then the decoder's rectified flow from x0 ~ N(0, I) at t_rec to t = 1
//    (Euler). Image i uses seed i alone (ε, then x0); the class is --class or seed mod K.
//  * Features: the encoder's layers (hidden, latent, trunk) for probes.
// The baselines open as the parts they have: clf classifies (each image on its own) and gives features,
// rf samples. Only the joint model (LznJointModel) is an IBatchRelativeClassifier.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using static TorchSharp.torch;

namespace Gen.Generative.Lzn;

/// <summary>Generation options of an lzn checkpoint (`gen sample`).</summary>
public sealed record LznSampleSettings
{
    [Param("Class index for a conditional checkpoint (default: seed mod classes)")]
    public int? Class { get; init; }

    [Param("Euler steps of the image decoder's flow (lzn default 30)")]
    public int? Steps { get; init; }

    [Param("lzn: Heun steps of the label flow that makes the latent (default 10)")]
    public int? LabelSteps { get; init; }
}

public class LznModel(LznNetwork network, LznConfig config, string path, long step, IReadOnlyDictionary<string, string>? metadata = null,
                      bool owns = true, LznSampleSettings? sampling = null)
    : IModel, IClassifier, IClassConditionalSampler, IEncoder
{
    public const string HiddenLayer = "hidden", LatentLayer = "latent", TrunkLayer = "trunk";
    private const int SampleBatch = 100;

    private readonly LznSampleSettings _sampling = sampling ?? new LznSampleSettings();
    private int _classifyBatch = config.TrainBatch;
    private double _priorStd;

    public LznNetwork Network => network;
    public LznConfig Config => config;
    public string Path => path;
    public long Step => step;
    public string Kind => config.Kind;
    public string Description => config.Variant == LznConfig.Joint ? $"lzn step {step}" : $"lzn {config.Variant} baseline step {step}";
    public int Channels => config.InChannels;
    public int Height => config.ImageSize;
    public int Width => config.ImageSize;
    public IReadOnlyList<string> ClassNames => config.ClassNames;
    public int Classes => config.Classes;
    public string TrainingData => config.Dataset;

    public int ImageSteps => _sampling.Steps ?? config.SampleImageSteps;
    public int LabelSteps => _sampling.LabelSteps ?? config.SampleLabelSteps;

    // ---- classification ----

    public int ClassifyBatch
    {
        get => _classifyBatch;
        set => _classifyBatch = value >= 1 ? value : throw new GenInputException($"--batch must be at least 1, got {value}");
    }

    public double PriorStd
    {
        get => _priorStd;
        set => _priorStd = value >= 0 && double.IsFinite(value) ? value : throw new GenInputException($"--prior-std must be zero or positive, got {value}");
    }

    public Tensor Logits(Tensor images01)
    {
        Need(config.HasEncoder, "classify");
        network.eval();
        using var scope = NewDisposeScope();
        Tensor x = images01.mul(2).sub(1);
        if (config.Variant == LznConfig.Clf)
            return network.head!.call(nn.functional.silu(network.encoder!.call(x))).MoveToOuterDisposeScope();
        var parts = new List<Tensor>();
        long n = x.shape[0];
        for (long start = 0, chunk = 0; start < n; start += ClassifyBatch, chunk++)
        {
            long m = Math.Min(ClassifyBatch, n - start);
            Tensor anchors = network.encoder!.call(x.narrow(0, start, m));
            Tensor noise = zeros(m, config.LatentDim);
            if (PriorStd > 0)
            {
                using var g = new Generator((ulong)chunk);
                noise = randn([m, config.LatentDim], generator: g).mul(PriorStd);
            }
            Tensor z = LznCore.ImageLatents(anchors, noise, config);
            parts.Add(ZoneScores(z));
        }
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>−½‖x_0 − c_k‖² of the label flow's reverse endpoint x_0 of each latent (equal class weights).</summary>
    public Tensor ZoneScores(Tensor latents)
    {
        using var scope = NewDisposeScope();
        Tensor c = network.anchors!;
        var (end, _) = LatentFlow.Reverse(latents, config.LabelFlowT0, c, LatentFlow.UniformLogWeights(c.shape[0]), config.LabelFlowSteps);
        return LatentFlow.NegSquaredDistance(end, c).MoveToOuterDisposeScope();
    }

    // ---- generation ----

    public int ClassOfSeed(long seed) => _sampling.Class ?? IClassConditionalSampler.SeedClass(seed, Classes);

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null) =>
        ((IImageSampler)this).Sample(Enumerable.Range(0, count).Select(i => firstSeed + i).ToList(), progress);

    public byte[] Sample(IReadOnlyList<long> seeds, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        Need(config.HasDecoder, "sample images");
        if (_sampling.Class is { } k && (k < 0 || k >= Classes))
            throw new GenInputException($"--class must be in 0..{Classes - 1} for this checkpoint, got {k}");
        if (ImageSteps < 1) throw new GenInputException($"--steps must be at least 1, got {ImageSteps}");
        if (LabelSteps < 1) throw new GenInputException($"--label-steps must be at least 1, got {LabelSteps}");
        var labels = seeds.Select(ClassOfSeed).ToArray();
        return Sample(seeds, labels, progress, cancel);
    }

    /// <summary>One image per (seed, class) pair.</summary>
    public byte[] Sample(IReadOnlyList<long> seeds, IReadOnlyList<int> classes, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        network.eval();
        using var _ = no_grad();
        return Batches.GenerateInChunks(seeds.Count, SampleBatch, Channels * Height * Width, (start, n) =>
        {
            var eps = new List<Tensor>(n);
            var x0 = new List<Tensor>(n);
            for (int i = 0; i < n; i++)
            {
                using var g = new Generator(unchecked((ulong)seeds[start + i]));
                eps.Add(randn([1, config.LatentDim], generator: g));
                x0.Add(randn([1, Channels, Height, Width], generator: g));
            }
            Tensor y = tensor(classes.Skip(start).Take(n).Select(c => (long)c).ToArray(), ScalarType.Int64);
            Tensor z = config.HasAnchors ? LabelLatents(y, cat(eps, 0)) : zeros(new long[] { n, 0 });
            return Decode(cat(x0, 0), z, y).add(1).div(2);
        }, progress, cancel);
    }

    /// <summary>z = the label flow's endpoint from t0·ε + (1−t0)·c_y (Heun, LabelSteps steps).</summary>
    public Tensor LabelLatents(Tensor labels, Tensor eps)
    {
        Tensor c = network.anchors!;
        Tensor start = LatentFlow.Start(c.index_select(0, labels), eps, config.LabelFlowT0);
        return LatentFlow.Forward(start, config.LabelFlowT0, c, LatentFlow.UniformLogWeights(c.shape[0]), LabelSteps, heun: true);
    }

    /// <summary>The decoder's rectified flow by Euler from x0 at t_rec to t = 1.</summary>
    public Tensor Decode(Tensor x0, Tensor z, Tensor labels)
    {
        Tensor oneHot = LznCore.OneHot(labels, Classes);
        return LznCore.Euler((x, t) => network.decoder!.call(x, t, z, oneHot), x0, config.RecT0, ImageSteps);
    }

    public JsonObject LastRun => new()
    {
        ["kind"] = config.Kind,
        ["sampler"] = "rectified-flow-euler",
        ["steps"] = ImageSteps,
        ["label_steps"] = config.HasAnchors ? LabelSteps : 0,
        ["details"] = config.HasAnchors
            ? $"latent: label flow from the class anchor, Heun {LabelSteps} steps; image: rectified flow, Euler {ImageSteps} steps (decoder EMA)"
            : $"label-only rectified flow, Euler {ImageSteps} steps (decoder EMA)",
    };

    // ---- features ----

    public string Architecture => "lzn-encoder";
    public IReadOnlyList<string> Layers => [HiddenLayer, LatentLayer, TrunkLayer];
    public string DefaultLayer => HiddenLayer;

    public IReadOnlyDictionary<string, string> Provenance => new Dictionary<string, string>
    {
        ["method"] = config.Kind,
        ["seed"] = metadata?.GetValueOrDefault("gen.seed", "") ?? "",
        ["step"] = step.ToString(CultureInfo.InvariantCulture),
    };

    public Tensor Features(Tensor images01, string layer)
    {
        Need(config.HasEncoder, "give image features");
        network.eval();
        using var scope = NewDisposeScope();
        Tensor trunk = network.encoder!.Trunk(images01.mul(2).sub(1));
        Tensor f = layer switch
        {
            TrunkLayer => trunk.mean([2, 3]),
            HiddenLayer => network.encoder.Hidden(trunk),
            LatentLayer => network.encoder.Latent(network.encoder.Hidden(trunk)),
            _ => throw new GenInputException($"--layer takes {string.Join(", ", Layers)} for an lzn encoder, got '{layer}'"),
        };
        return f.MoveToOuterDisposeScope();
    }

    private void Need(bool has, string what)
    {
        if (!has) throw new GenInputException($"this lzn checkpoint is the {config.Variant} baseline, which cannot {what}; pass a joint lzn checkpoint");
    }

    public static LznModel Load(string file, CheckpointInfo info, LznSampleSettings? sampling = null)
    {
        var (st, _) = Checkpoint.Open(file, info.Kind);
        LznConfig config = Json.Deserialize<LznConfig>(info.ConfigJson, $"the config in '{st.Path}'");
        config.Validate();
        if (config.Kind != info.Kind)
            throw new GenInputException($"checkpoint '{st.Path}' is marked '{info.Kind}' but its config is the {config.Variant} variant; the file was altered");
        var net = new LznNetwork(config);
        Checkpoint.LoadInto(net, st);
        net.eval();
        return Create(net, config, st.Path, info.Step, info.Metadata, sampling: sampling);
    }

    /// <summary>The model of a network: the batch-relative LznJointModel for the joint variant.</summary>
    public static LznModel Create(LznNetwork network, LznConfig config, string path, long step, IReadOnlyDictionary<string, string>? metadata = null,
                                  bool owns = true, LznSampleSettings? sampling = null) =>
        config.HasAnchors ? new LznJointModel(network, config, path, step, metadata, owns, sampling)
                          : new LznModel(network, config, path, step, metadata, owns, sampling);

    public void Dispose()
    {
        if (owns) network.Dispose();
    }
}

/// <summary>The joint model, whose classification is batch-relative (docs/methods/lzn.md "Inference").</summary>
public sealed class LznJointModel(LznNetwork network, LznConfig config, string path, long step, IReadOnlyDictionary<string, string>? metadata,
                                  bool owns, LznSampleSettings? sampling)
    : LznModel(network, config, path, step, metadata, owns, sampling), IBatchRelativeClassifier
{
    public string Note => string.Create(CultureInfo.InvariantCulture,
        $"batch-relative: each image's latent is computed over the anchors of its chunk of {ClassifyBatch} images (in input order), start noise std {PriorStd:G3}");
}
