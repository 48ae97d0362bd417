// Pretraining as registered methods (docs/methods/representation.md): one descriptor per method
// (rotnet, simclr, mocov2, simsiam, supervised), all of the "pretrain" family with the same options.
// A run writes the checkpoint (kind "representation": encoder, heads, G, queues; metadata: method,
// seed, config with mean/std); the online kNN monitor (docs/methods/representation.md §5.3) runs as the evaluation hook every
// --knn-every epochs and at the end; it reads labels only for the monitor and has no effect on training.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using Gen.Representation.Probes;
using static TorchSharp.torch;

namespace Gen.Representation;

public sealed record PretrainParams : TrainParams
{
    public PretrainMethodKind Method { get; init; } = PretrainMethodKind.Simclr;   // fixed by the descriptor

    [Param("resnet10s (CPU), resnet18 (CIFAR ResNet-18) or nin4 (RotNet's NIN)")]
    public EncoderArch Encoder { get; init; } = EncoderArch.Resnet10s;

    [Param("Start each residual block's last BN at zero")]
    public bool ZeroInitResidual { get; init; }

    [Param("Add the Hallucinator's extra positives in feature space (simclr, mocov2, simsiam)")]
    public bool Hallucinator { get; init; }

    [Param("Hallucinator step size: λ ~ U(0, this) per step")]
    public double HalLambdaMax { get; init; } = HallucinatorConfig.DefaultLambdaMax;

    [Param("SimCLR / MoCo softmax temperature (default 0.2)")]
    public double? Temperature { get; init; }

    [Param("MoCo queue length per view (a multiple of --batch; default 4096, 32768 for resnet18)")]
    public int? Queue { get; init; }

    [Param("Epochs between online kNN monitor runs (0 = only at the end)")]
    public double KnnEvery { get; init; } = 1;

    [Param("Neighbours of the kNN monitor")]
    public int KnnK { get; init; } = Knn.DefaultK;

    [Param("Temperature of the kNN monitor")]
    public double KnnT { get; init; } = Knn.DefaultT;

    // The monitor's bank is the first 10 000 train images: with the 10 000 test images that keeps the
    // per-epoch monitor near 5% of a CPU epoch; `gen probe` always uses the whole train set.
    [Param("Train images in the monitor's bank (0 = all)")]
    public int KnnBank { get; init; } = 10000;

    public override void Validate()
    {
        if (KnnEvery < 0) throw new GenInputException($"--knn-every must be zero (end only) or positive, got {KnnEvery}");
        if (KnnK < 1) throw new GenInputException($"--knn-k must be positive, got {KnnK}");
        if (!(KnnT > 0)) throw new GenInputException($"--knn-t must be positive, got {KnnT}");
        if (Hallucinator && Method is PretrainMethodKind.Rotnet or PretrainMethodKind.Supervised)
            throw new GenInputException($"--hallucinator works with simclr, mocov2 and simsiam, not {Method.ToString().ToLowerInvariant()}");
    }
}

public sealed class PretrainTraining(PretrainMethodKind kind) : Method<PretrainParams, PretrainConfig>
{
    public const string FamilyName = "pretrain";

    public override string Name => kind.ToString().ToLowerInvariant();
    public override string? Family => FamilyName;
    public override string Summary => kind == PretrainMethodKind.Supervised
        ? "Train the representation encoder with labels (the probes' ceiling)"
        : $"Pretrain an encoder without labels with {Name}, with an online kNN monitor";
    public override IReadOnlyList<string> CheckpointKinds => [PretrainMethod.KindName];
    public override IReadOnlyList<Type> Capabilities => [typeof(IEncoder), typeof(Gen.Pipeline.Onnx.IOnnxExportable)];

    public override PretrainParams Defaults() => new() { Method = kind };

    public override TrainConfig Recipe(PretrainParams p, int? batch) => Recipes.Train(kind, p.Encoder, batch ?? Recipes.Batch(kind));

    // Threads: 1 on ≤ 2 cores (under load two intra-op threads were 2–20× slower; docs/platform.md), else libtorch's choice.
    public override RunOptions RunDefaults(PretrainParams p) => new() { Threads = Environment.ProcessorCount <= 2 ? 1 : 0 };

    public override PretrainConfig BuildConfig(PretrainParams p, ImageSet train)
    {
        PretrainConfig config = PretrainConfig.For(kind, p.Encoder, train, p.Hallucinator, p.HalLambdaMax) with { Dataset = p.Data };
        config = config with { Encoder = config.Encoder with { ZeroInitResidual = p.ZeroInitResidual } };
        if (p.Temperature is { } t) config = config with { Temperature = t };
        if (p.Queue is { } q) config = config with { QueueSize = q };
        return config;
    }

    public override TrainPlan Plan(PretrainParams p, PretrainConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        config.Validate();
        config.ValidateBatch(train.Batch);
        ImageSet test = DatasetCatalog.Load(DatasetCatalog.WithSplit(p.Data, Split.Test), Split.Test, ctx.Log);
        if (test.Channels != data.Channels)
            throw new GenInputException($"'{test.Name}' has {test.Channels}-channel images but '{data.Name}' has {data.Channels}; use one dataset");
        if (kind == PretrainMethodKind.Supervised && data.Labels.Any(l => l < 0))
            throw new GenInputException($"{Name} needs labels, but '{data.Name}' has unlabelled images");
        long stepsPerEpoch = data.Count / train.Batch;
        if (stepsPerEpoch == 0) throw new GenInputException($"the dataset has {data.Count} images, fewer than one batch of {train.Batch}; lower --batch");
        double warmupEpochs = Recipes.WarmupEpochs(kind, p.Encoder);
        if (train.WarmupSteps == 0 && warmupEpochs > 0) train = train with { WarmupSteps = (long)Math.Round(warmupEpochs * stepsPerEpoch) };
        long knnEvery = p.KnnEvery > 0 ? Math.Max(1, (long)Math.Round(p.KnnEvery * stepsPerEpoch)) : 0;

        var method = PretrainMethod.Create(config, train.Seed);
        var monitor = new KnnMonitor(config, data, test, p.KnnK, p.KnnT, p.KnnBank);
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Hooks = [new TrainHook("knn", knnEvery, (m, _) => monitor.Evaluate(m))],
            RunInfo = new JsonObject
            {
                ["method"] = Name,
                ["hallucinator"] = config.Hallucinator.Enabled,
                ["hallucinator_macs_per_sample"] = method.Hallucinator?.MacsPerSample ?? 0,
                ["eval_data"] = test.Name,
            },
        };
    }

    public override string Describe(TrainResult result)
    {
        string knn = result.FinalMetrics.TryGetValue("knn_top1", out double a) ? (100 * a).ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a";
        return $"kNN top-1 {knn}; probe it with: gen probe {result.RunDir}";
    }

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings) => EncoderModel.Load(file);
}

/// <summary>A representation checkpoint's encoder as an IEncoder (normalisation, then the backbone).</summary>
public sealed class EncoderModel(Encoder encoder, PretrainConfig config, CheckpointInfo? info, string path) : IModel, IEncoder, Gen.Pipeline.Onnx.IOnnxImageModel
{
    public Encoder Network => encoder;
    public PretrainConfig Config => config;
    public CheckpointInfo? Info => info;
    public string Path => path;
    public string Kind => PretrainMethod.KindName;
    public long Step => info?.Step ?? 0;
    public string Description => $"{Provenance.GetValueOrDefault("method", "encoder")} step {Step}";
    public int Channels => config.Encoder.InChannels;
    public int Height => config.ImageSize;
    public int Width => config.ImageSize;
    public string TrainingData => config.Dataset;
    public string Architecture => config.Encoder.Arch.ToString().ToLowerInvariant();
    public IReadOnlyList<string> Layers => encoder.LayerNames;
    public string DefaultLayer => config.Encoder.DefaultProbeLayer;

    public IReadOnlyDictionary<string, string> Provenance => info is null ? new Dictionary<string, string>() : new Dictionary<string, string>
    {
        ["method"] = info.Metadata.GetValueOrDefault("gen.method", ""),
        ["hallucinator"] = info.Metadata.GetValueOrDefault("gen.hallucinator", "off"),
        ["seed"] = info.Metadata.GetValueOrDefault("gen.seed", ""),
    };

    public Tensor Features(Tensor images01, string layer) => encoder.Layer(Views.Plain(images01, config), layer);

    // ONNX export (docs/deploy.md §8): images → normalisation → every probe layer; parity on the pooled output.
    public string OnnxRole => EncoderOnnx.Role;

    public void WriteOnnx(Gen.Pipeline.Onnx.OnnxGraph g) => EncoderOnnx.Write(g, encoder, this, config.Mean, config.Std);

    public Tensor Reference(Tensor images01) => Features(images01, Encoder.Pool);

    IReadOnlyDictionary<string, string> Gen.Pipeline.Onnx.IOnnxExportable.OnnxMetadata =>
        new Dictionary<string, string> { [EncoderOnnx.DescriptionKey] = EncoderOnnx.Describe(this) };

    /// <summary>Rebuilds the encoder of a representation checkpoint from its config and "encoder." tensors.</summary>
    public static EncoderModel Load(string path)
    {
        var (file, info) = Checkpoint.Open(path, PretrainMethod.KindName);
        PretrainConfig config = Json.Deserialize<PretrainConfig>(info.ConfigJson, $"the config in '{file.Path}'");
        config.Validate();
        using var g = new Generator(0);
        Encoder encoder = config.Encoder.Create(g);
        Checkpoint.LoadInto(encoder, file, PretrainNet.EncoderPrefix);
        encoder.eval();
        return new EncoderModel(encoder, config, info, file.Path);
    }

    public void Dispose() => encoder.Dispose();
}

/// <summary>The online kNN monitor: encoder features of the train bank and the test set, weighted kNN top-1.</summary>
public sealed class KnnMonitor
{
    private readonly PretrainConfig _config;
    private readonly ImageSet _train, _test;
    private readonly int _k, _bank;
    private readonly double _t;

    public KnnMonitor(PretrainConfig config, ImageSet train, ImageSet test, int k, double t, int bank)
    {
        _config = config;
        _train = train;
        _test = test;
        _k = k;
        _t = t;
        _bank = bank > 0 ? Math.Min(bank, train.Count) : train.Count;
    }

    public IReadOnlyDictionary<string, double> Evaluate(nn.Module model)
    {
        var row = new Dictionary<string, double>();
        if (_train.Labels.Take(_bank).All(l => l < 0) || _test.Labels.All(l => l < 0)) return row;
        var net = (PretrainNet)model;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Tensor Fn(Tensor x) => net.Encoder.call(Views.Plain(x, _config));
        using Tensor bank = Features.Extract(_train, Fn, limit: _bank);
        using Tensor bankLabels = Features.Labels(_train, _bank);
        using Tensor queries = Features.Extract(_test, Fn);
        using Tensor queryLabels = Features.Labels(_test);
        using Tensor validBank = bankLabels.ge(0);
        int classes = Math.Max(_config.Classes, (int)Math.Max(bankLabels.max().item<long>(), queryLabels.max().item<long>()) + 1);
        // Unlabelled bank rows (label −1) cannot vote: give them a throw-away class beyond the real ones.
        using Tensor labelsForVotes = where(validBank, bankLabels, full_like(bankLabels, classes));
        var r = Knn.Evaluate(bank, labelsForVotes, queries, queryLabels, classes + 1, Math.Min(_k, (int)bank.shape[0]), _t);
        row["knn_top1"] = r.Top1;
        row["knn_top5"] = r.Top5;
        row["knn_s"] = clock.Elapsed.TotalSeconds;
        return row;
    }
}
