// Latent Zoning Networks as a registered method (docs/methods/lzn.md): `gen train lzn` trains the
// joint model, and `--baseline clf|rf` one of its fair baselines with the same networks, batches and
// steps (kinds lzn-clf and lzn-rf). A monitor hook reports the test accuracy (prior-std 0, batches of
// the training batch size) and the sample accuracy: the dataset's reference classifier (registered by
// the metrics project; for Fashion-MNIST the bundled extractor's classifier) on class-balanced samples.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Lzn;

public sealed record LznParams : TrainParams
{
    [Param("none (the joint model), clf (the same encoder trained with cross-entropy) or rf (the same decoder as a label-only rectified flow)")]
    public string Baseline { get; init; } = "none";

    [Param("Dimension d of the latent space")]
    public int LatentDim { get; init; } = 32;

    [Param("Learning rate of the image encoder (--lr is the decoder's, the anchors' and the baseline head's)")]
    public double EncoderLr { get; init; } = 2e-4;

    [Param("Per-step EMA decay of the decoder used for sampling (0 = no average)")]
    public double DecoderEma { get; init; } = 0.999;

    [Param("Heun steps of the image flow (image latents in training and classification)")]
    public int ImageFlowSteps { get; init; } = 10;

    [Param("Euler steps of the reverse label flow (label loss and classification)")]
    public int LabelFlowSteps { get; init; } = 20;

    [Param("Fraction of the reverse label flow's first steps (near t = 1) the label loss ignores")]
    public double LabelLossCut { get; init; } = 0.2;

    [Param("Evaluation data of the monitor (default: the test split of --data)")]
    public string? EvalData { get; init; }

    [Param("Test images in the accuracy monitor")]
    public int MonitorN { get; init; } = 1000;

    [Param("Class-balanced samples in the sample-accuracy monitor (0 = off)")]
    public int MonitorSamples { get; init; } = 200;

    public string Variant => Baseline switch { "none" => LznConfig.Joint, var b => b };

    public override void Validate()
    {
        if (Baseline is not ("none" or LznConfig.Clf or LznConfig.Rf)) throw new GenInputException($"--baseline takes none, clf or rf, got '{Baseline}'");
        if (LatentDim < 1) throw new GenInputException($"--latent-dim must be at least 1, got {LatentDim}");
        if (!(EncoderLr > 0) || double.IsInfinity(EncoderLr)) throw new GenInputException($"--encoder-lr must be positive, got {EncoderLr}");
        if (!(DecoderEma >= 0 && DecoderEma < 1)) throw new GenInputException($"--decoder-ema must be in [0, 1), got {DecoderEma}");
        if (ImageFlowSteps < 1) throw new GenInputException($"--image-flow-steps must be at least 1, got {ImageFlowSteps}");
        if (LabelFlowSteps < 1) throw new GenInputException($"--label-flow-steps must be at least 1, got {LabelFlowSteps}");
        if (!(LabelLossCut >= 0 && LabelLossCut < 1)) throw new GenInputException($"--label-loss-cut must be in [0, 1), got {LabelLossCut}");
        if (MonitorN < 1) throw new GenInputException($"--monitor-n must be positive, got {MonitorN}");
        if (MonitorSamples < 0) throw new GenInputException($"--monitor-samples must be zero or positive, got {MonitorSamples}");
    }
}

public sealed class LznTraining : Method<LznParams, LznConfig>
{
    private static readonly string[] Kinds = [LznConfig.KindOf(LznConfig.Joint), LznConfig.KindOf(LznConfig.Clf), LznConfig.KindOf(LznConfig.Rf)];

    public override string Name => LznMethod.KindName;
    public override string Summary => "Train a Latent Zoning Network: one latent space for generation, classification and features (or --baseline clf|rf)";
    public override IReadOnlyList<string> CheckpointKinds => Kinds;
    public override IReadOnlyList<Type> Capabilities => [typeof(IClassifier), typeof(IBatchRelativeClassifier), typeof(IImageSampler), typeof(IEncoder)];
    public override Type? SampleSettingsType => typeof(LznSampleSettings);

    public override IReadOnlyList<Type> CapabilitiesOf(string kind) => kind switch
    {
        _ when kind == LznConfig.KindOf(LznConfig.Clf) => [typeof(IClassifier), typeof(IEncoder)],
        _ when kind == LznConfig.KindOf(LznConfig.Rf) => [typeof(IImageSampler)],
        _ => Capabilities,
    };

    // The CPU recipe of docs/methods/lzn.md: Adam at 1e-3 (decoder, anchors; the encoder at 2e-4),
    // batch 64, linear warm-up over 100 steps then constant, gradient norm clipped at 1; 5,000 steps,
    // the spec's half-hour long run on 2 cores (docs/methods/lzn.md "Benchmarks").
    public override TrainConfig Recipe(LznParams p, int? batch) => new()
    {
        Steps = 5000,
        Batch = 64,
        Lr = 1e-3,
        Optimizer = OptimizerKind.Adam,
        WeightDecay = 0,
        Schedule = LrScheduleKind.Constant,
        WarmupSteps = 100,
        ClipGradNorm = 1.0,
        EvalEvery = 500,
    };

    public override RunOptions RunDefaults(LznParams p) => new() { CheckpointEvery = 250, LogEvery = 25 };

    public override LznConfig BuildConfig(LznParams p, ImageSet data)
    {
        if (data.ClassCount < 2 || data.Labels.Any(l => l < 0))
            throw new GenInputException($"'{p.Data}' has no class labels; lzn trains on labelled images: pass a dataset (fashion-mnist) or a folder with one subfolder per class");
        var config = LznConfig.For(data, p.Data) with
        {
            Variant = p.Variant,
            LatentDim = p.LatentDim,
            ImageFlowSteps = p.ImageFlowSteps,
            LabelFlowSteps = p.LabelFlowSteps,
            LabelLossCut = p.LabelLossCut,
        };
        config.Validate();
        return config;
    }

    public override TrainPlan Plan(LznParams p, LznConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        config = config with { TrainBatch = train.Batch };
        config.Validate();
        if (data.Channels != config.InChannels || data.Height != config.ImageSize || data.Width != config.ImageSize)
            throw new GenInputException($"'{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the lzn model takes {config.InChannels}×{config.ImageSize}×{config.ImageSize}");
        if (train.Batch < config.Classes)
            throw new GenInputException($"--batch {train.Batch} is smaller than the {config.Classes} classes; an lzn batch needs room for every class (the recipe uses 64)");

        ImageSet test = DatasetCatalog.Load(p.EvalData ?? DatasetCatalog.WithSplit(p.Data, Split.Test), Split.Test, ctx.Log);
        ClassifierEval.CheckCompatible(config.InChannels, config.ImageSize, config.ImageSize, config.Dataset, test);
        ImageSet monitor = test.Take(Math.Min(p.MonitorN, test.Count));
        double halfLife = p.DecoderEma > 0 ? train.Batch * Math.Log(0.5) / Math.Log(p.DecoderEma) : 0;
        using var init = new Generator((ulong)train.Seed);
        var method = new LznMethod(config, init, halfLife, p.EncoderLr / train.Lr, train.Seed);
        int samples = config.HasDecoder ? p.MonitorSamples : 0;
        var judge = samples > 0 ? new Lazy<IClassifier?>(() => MethodRegistry.Current?.ReferenceClassifier(config.Dataset)) : null;
        var hook = new TrainHook("monitor", train.EvalEvery, (_, step) => Monitor(method, config, monitor, samples, judge, step, ctx.Log));
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Hooks = [hook],
            RunInfo = new JsonObject { ["eval_data"] = test.Name, ["lzn_variant"] = config.Variant },
        };
    }

    private static IReadOnlyDictionary<string, double> Monitor(LznMethod method, LznConfig config, ImageSet test, int samples,
                                                              Lazy<IClassifier?>? judge, long step, IProgress<string>? log)
    {
        var model = LznModel.Create(method.Network, config, "", step, owns: false);   // classifies in chunks of the training batch
        var row = new Dictionary<string, double>();
        var parts = new List<string>();
        if (config.HasEncoder)
        {
            double acc = ClassifierEval.Evaluate(model, test).Accuracy;
            row["test_acc"] = acc;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"test acc {acc:F3} ({test.Count} images{(config.HasAnchors ? $", prior-std 0, batches of {config.TrainBatch}" : "")})"));
        }
        if (samples > 0)
        {
            if (judge?.Value is { } classifier)
            {
                double acc = SampleAccuracy(model, classifier, samples);
                row["sample_acc"] = acc;
                parts.Add(string.Create(CultureInfo.InvariantCulture, $"sample acc {acc:F3} ({samples} samples by the reference classifier)"));
            }
            else parts.Add($"sample acc: no reference classifier for '{config.Dataset}'");
        }
        log?.Report($"step {step}: {string.Join("; ", parts)}");
        return row;
    }

    /// <summary>The reference classifier's accuracy on n samples, class i mod K for seed i (class-balanced).</summary>
    public static double SampleAccuracy(LznModel model, IClassifier judge, int n)
    {
        var seeds = Enumerable.Range(0, n).Select(i => (long)i).ToList();
        var classes = seeds.Select(s => IClassConditionalSampler.SeedClass(s, model.Classes)).ToArray();
        byte[] pixels = model.Sample(seeds, classes);
        var set = new ImageSet("lzn-samples", pixels, classes, model.Channels, model.Height, model.Width, model.ClassNames, "generated");
        return ClassifierEval.Evaluate(judge, set).Accuracy;
    }

    public override string Describe(TrainResult result)
    {
        var m = result.FinalMetrics;
        var parts = new List<string>();
        if (m.TryGetValue("test_acc", out double a)) parts.Add("test acc " + (100 * a).ToString("F1", CultureInfo.InvariantCulture) + "%");
        if (m.TryGetValue("sample_acc", out double s)) parts.Add("sample acc " + (100 * s).ToString("F1", CultureInfo.InvariantCulture) + "%");
        return string.Join(", ", parts);
    }

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings)
    {
        var settings = ParamSchema.Of<LznSampleSettings>().Bind(new LznSampleSettings(), sampleSettings, $"sampling '{file}'");
        return LznModel.Load(file, info, settings);
    }
}
