// The pretrain stage (a train stage, like the classifier's): data → run folder with the checkpoint
// (kind "representation": encoder, heads, G, queues; metadata: method, seed, config with mean/std),
// resume state, metrics.jsonl (loss, method metrics, knn_top1 per monitor epoch), plots/ and stage.json.
// The online kNN monitor (design §5) runs through the Trainer's evaluator hook every --knn-every epochs
// and at the end; it reads labels only for the monitor and has no effect on training.
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using Gen.Representation.Probes;
using static TorchSharp.torch;

namespace Gen.Representation;

public sealed record PretrainParams
{
    public PretrainMethodKind Method { get; init; } = PretrainMethodKind.Simclr;
    public string Data { get; init; } = "fashion-mnist";
    public EncoderArch Encoder { get; init; } = EncoderArch.Resnet10s;
    public bool ZeroInitResidual { get; init; }
    public bool Hallucinator { get; init; }
    public double HalLambdaMax { get; init; } = HallucinatorConfig.DefaultLambdaMax;
    public double? Temperature { get; init; }
    public int? Queue { get; init; }
    public required TrainConfig Train { get; init; }
    public double KnnEvery { get; init; } = 1;          // epochs between kNN monitor runs (0 = only at the end)
    public int KnnK { get; init; } = Knn.DefaultK;
    public double KnnT { get; init; } = Knn.DefaultT;
    public int KnnBank { get; init; } = 10000;          // monitor bank: first N train images (0 = all)
    public double WarmupEpochs { get; init; }           // converted to steps when Train.WarmupSteps is 0
    public bool Resume { get; init; }
}

public sealed class PretrainStage : IStage<PretrainParams, TrainResult>
{
    private readonly IProgress<TrainProgress>? _progress;

    public PretrainStage(IProgress<TrainProgress>? progress = null) => _progress = progress;

    public string Kind => "pretrain";

    public IReadOnlyList<StageInput> Inputs(PretrainParams p) => [DataInput("data", p.Data, Split.Train)];

    internal static StageInput DataInput(string name, string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        string source = r.ShortName is not null ? DatasetCatalog.Locate(DatasetCatalog.Known[r.ShortName]) : r.Path!;
        return new StageInput(name, $"{spec} ({DatasetCatalog.SplitName(r.Split ?? split)})", ContentHash.OfPath(source));
    }

    /// <summary>"fashion-mnist:test" for "fashion-mnist" (any split suffix replaced).</summary>
    public static string WithSplit(string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        return $"{r.ShortName ?? r.Path!}:{DatasetCatalog.SplitName(split)}";
    }

    /// <summary>The model config a run uses (the stored one on resume: normalisation was measured then).</summary>
    public static PretrainConfig ResolveConfig(PretrainParams p, ImageSet train, string outDir)
    {
        PretrainConfig config = PretrainConfig.For(p.Method, p.Encoder, train, p.Hallucinator, p.HalLambdaMax) with { Dataset = p.Data };
        config = config with { Encoder = config.Encoder with { ZeroInitResidual = p.ZeroInitResidual } };
        if (p.Temperature is { } t) config = config with { Temperature = t };
        if (p.Queue is { } q) config = config with { QueueSize = q };
        string cfgPath = Path.Combine(outDir, Trainer.ConfigFile);
        if (p.Resume && File.Exists(Path.Combine(outDir, Trainer.StateFile)) && File.Exists(cfgPath))
        {
            var saved = JsonNode.Parse(File.ReadAllText(cfgPath))?["model"];
            if (saved is not null) config = saved.Deserialize<PretrainConfig>(Json.Options) ?? config;
        }
        config.Validate();
        config.ValidateBatch(p.Train.Batch);
        return config;
    }

    public TrainResult Run(PretrainParams p, StageContext ctx)
    {
        Denormals.FlushToZero();   // before libtorch starts its intra-op threads (they inherit the flag)
        if (p.KnnEvery < 0) throw new GenInputException($"--knn-every must be zero (end only) or positive, got {p.KnnEvery}");
        if (p.KnnK < 1) throw new GenInputException($"--knn-k must be positive, got {p.KnnK}");
        if (!(p.KnnT > 0)) throw new GenInputException($"--knn-t must be positive, got {p.KnnT}");
        ImageSet train = DatasetCatalog.Load(p.Data, Split.Train, ctx.Log);
        ImageSet test = DatasetCatalog.Load(WithSplit(p.Data, Split.Test), Split.Test, ctx.Log);
        if (test.Channels != train.Channels)
            throw new GenInputException($"'{test.Name}' has {test.Channels}-channel images but '{train.Name}' has {train.Channels}; use one dataset");
        PretrainConfig config = ResolveConfig(p, train, ctx.OutputDir);
        if (p.Method == PretrainMethodKind.Supervised && train.Labels.Any(l => l < 0))
            throw new GenInputException($"--method supervised needs labels, but '{train.Name}' has unlabelled images");

        long stepsPerEpoch = train.Count / p.Train.Batch;
        if (stepsPerEpoch == 0) throw new GenInputException($"the dataset has {train.Count} images, fewer than one batch of {p.Train.Batch}; lower --batch");
        TrainConfig tc = p.Train with { EvalEvery = p.KnnEvery > 0 ? Math.Max(1, (long)Math.Round(p.KnnEvery * stepsPerEpoch)) : 0 };
        if (tc.WarmupSteps == 0 && p.WarmupEpochs > 0) tc = tc with { WarmupSteps = (long)Math.Round(p.WarmupEpochs * stepsPerEpoch) };

        var manifest = new StageManifest
        {
            Kind = Kind,
            Params = JsonSerializer.SerializeToNode(p with { Resume = false }, Json.Options)!,
            Inputs = Inputs(p),
            Outputs = [Trainer.LastFile, Trainer.StateFile, Trainer.MetricsFile, Trainer.ConfigFile, Trainer.PlotDir, Trainer.SnapshotDir],
        };
        if (!p.Resume && (File.Exists(Path.Combine(ctx.OutputDir, Trainer.StateFile)) || File.Exists(Path.Combine(ctx.OutputDir, Trainer.LastFile))))
            throw new GenInputException($"'{ctx.OutputDir}' already holds a run; pass --resume to continue it, or choose another --out");
        Directory.CreateDirectory(ctx.OutputDir);
        manifest.Write(ctx.OutputDir);

        using var method = PretrainMethod.Create(config, tc.Seed);
        var monitor = new KnnMonitor(config, train, test, p.KnnK, p.KnnT, p.KnnBank);
        var runInfo = new JsonObject
        {
            ["stage"] = Kind,
            ["method"] = config.Method.ToString().ToLowerInvariant(),
            ["hallucinator"] = config.Hallucinator.Enabled,
            ["hallucinator_macs_per_sample"] = method.Hallucinator?.MacsPerSample ?? 0,
            ["eval_data"] = test.Name,
        };
        var trainer = new Trainer(method, train, tc, ctx.OutputDir, _progress, monitor.Evaluate, runInfo);
        return manifest.RunTraining(ctx.OutputDir, () => trainer.Run(p.Resume, ctx.Cancel));
    }
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
