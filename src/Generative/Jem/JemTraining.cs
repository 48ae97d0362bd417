// The energy-based joint classifier/generator as a registered method (docs/methods/jem-at.md):
// `gen train jem --stage plain|1|2|both`. Stage 1 is adversarial training from scratch; stage 2 (dual
// adversarial training) starts from a stage-1 run's weights (--init), and `both` runs stage 1 in
// RUN/stage1 and then stage 2 in RUN. A monitor hook reports clean and PGD accuracy of the first test
// images, and in stage 2 the curriculum's T and windowed AUC.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Jem;

public sealed record JemParams : TrainParams
{
    [Param("plain (cross-entropy baseline), 1 (adversarial training), 2 (dual adversarial training, needs --init), or both (1 then 2)")]
    public string Stage { get; init; } = "both";

    [Param("Network: cnn-s (~0.1 M parameters, 28 px) or wrn-16-4")]
    public string Arch { get; init; } = JemConfig.CnnS;

    [Param("Threat model of adversarial training: l2 or linf")]
    public string Threat { get; init; } = "l2";

    [Param("Radius of the training attack")]
    public double AttackEps { get; init; } = 1.0;

    [Param("PGD steps of the training attack")]
    public int AttackSteps { get; init; } = 5;

    [Param("Step of the training attack (default 2·eps/steps)")]
    public double? AttackStepSize { get; init; }

    [Param("Stage 2: step α_g of the contrastive ascent from p0")]
    public double GenStepSize { get; init; } = 0.25;

    [Param("Stage 2: largest number of contrastive ascent steps T")]
    public int TMax { get; init; } = 30;

    [Param("Stage 2: windowed real-vs-contrastive AUC at which T grows by one")]
    public double AucThreshold { get; init; } = 0.8;

    [Param("Stage 2: iterations in the AUC window")]
    public int AucWindow { get; init; } = 8;

    [Param("With --stage both: epochs of stage 1")]
    public double Stage1Epochs { get; init; } = 1;

    [Param("Evaluation data of the monitor (default: the test split of --data)")]
    public string? EvalData { get; init; }

    [Param("Test images in the clean/PGD accuracy monitor")]
    public int MonitorN { get; init; } = 500;

    public override void Validate()
    {
        if (Stage is not (JemConfig.StagePlain or JemConfig.Stage1 or JemConfig.Stage2 or "both"))
            throw new GenInputException($"--stage takes plain, 1, 2 or both, got '{Stage}'");
        if (Arch is not (JemConfig.CnnS or JemConfig.Wrn16x4)) throw new GenInputException($"--arch takes {JemConfig.CnnS} or {JemConfig.Wrn16x4}, got '{Arch}'");
        PgdAttack.ParseThreat(Threat);
        if (!(AttackEps > 0) || double.IsInfinity(AttackEps)) throw new GenInputException($"--attack-eps must be positive, got {AttackEps}");
        if (AttackSteps < 1) throw new GenInputException($"--attack-steps must be at least 1, got {AttackSteps}");
        if (AttackStepSize is { } a && !(a > 0)) throw new GenInputException($"--attack-step-size must be positive, got {a}");
        if (!(Stage1Epochs > 0)) throw new GenInputException($"--stage1-epochs must be positive, got {Stage1Epochs}");
        if (MonitorN < 1) throw new GenInputException($"--monitor-n must be positive, got {MonitorN}");
    }
}

/// <summary>Generation options of a jem checkpoint (`gen sample`).</summary>
public sealed record JemSampleSettings
{
    [Param("Class index for a conditional checkpoint (default: seed mod classes)")]
    public int? Class { get; init; }

    [Param("Steps of the energy model's deterministic ascent from p0 (default 60)")]
    public int? Steps { get; init; }

    [Param("Energy model: L2 step of the ascent (default 0.25)")]
    public double? StepSize { get; init; }
}

public sealed class JemTraining : Method<JemParams, JemConfig>
{
    public override string Name => JemMethod.KindName;
    public override string Summary => "Train an energy-based joint classifier and generator with dual adversarial training (JEM-AT)";
    public override IReadOnlyList<string> CheckpointKinds => [JemMethod.KindName];
    public override IReadOnlyList<Type> Capabilities => [typeof(IClassifier), typeof(IConvClassifier), typeof(IImageSampler), typeof(Gen.Pipeline.Onnx.IOnnxExportable)];
    public override Type? SampleSettingsType => typeof(JemSampleSettings);

    private static string StageOf(JemParams p) => p.Stage == "both" ? JemConfig.Stage2 : p.Stage;

    // The CPU recipe of docs/methods/jem-at.md §3: plain 3 epochs and stage 1 one epoch at SGD-Nesterov
    // 0.05 with cosine decay, batch 128; stage 2 at constant 5e-3 with batches of 2 × 128 (two real
    // halves) and an EMA of decay ≈ 0.99 per step, ramped up as min(0.999, (1+n)/(10+n)) in the official code.
    public override TrainConfig Recipe(JemParams p, int? batch)
    {
        var common = new TrainConfig
        {
            Batch = 128,
            Lr = 0.05,
            Optimizer = OptimizerKind.Sgd,
            Momentum = 0.9,
            Nesterov = true,
            WeightDecay = 5e-4,
            Schedule = LrScheduleKind.Cosine,
            EvalEvery = 100,
        };
        return StageOf(p) switch
        {
            JemConfig.StagePlain => common with { Epochs = 3 },
            JemConfig.Stage1 => common with { Epochs = 1 },
            _ => common with
            {
                Steps = 300,
                Batch = 256,
                Lr = 5e-3,
                Schedule = LrScheduleKind.Constant,
                EmaHalfLifeImages = EmaHalfLife(batch ?? 256),
                EmaRampup = 0.08,
                EvalEvery = 50,
            },
        };
    }

    /// <summary>The half-life in images of a decay of 0.99 per step.</summary>
    public static double EmaHalfLife(int batch) => Math.Round(batch * Math.Log(0.5) / Math.Log(0.99));

    public override RunOptions RunDefaults(JemParams p) => StageOf(p) switch
    {
        // Plain runs keep dense snapshots: the robustness comparison picks the one whose clean accuracy matches.
        JemConfig.StagePlain => new RunOptions { CheckpointEvery = 25, LogEvery = 25 },
        JemConfig.Stage1 => new RunOptions { CheckpointEvery = 100, LogEvery = 25 },
        _ => new RunOptions { CheckpointEvery = 50, LogEvery = 10 },
    };

    public override (IReadOnlyList<TrainPhase> Before, TrainParams Final) Phases(JemParams p, TrainConfig train, RunOptions run)
    {
        if (p.Stage != "both") return ([], p);
        var first = p with { Stage = JemConfig.Stage1 };
        // Stage 1 trains on one real half of stage 2's batch (128 of 256 in the recipe).
        var recipe = Recipe(first, null) with { Seed = train.Seed, Epochs = p.Stage1Epochs, Batch = Math.Max(1, train.Batch / 2) };
        return ([new TrainPhase("stage1", first, recipe, RunDefaults(first) with { Threads = run.Threads })], p with { Stage = JemConfig.Stage2 });
    }

    public override JemConfig BuildConfig(JemParams p, ImageSet data)
    {
        if (data.ClassCount < 2)
            throw new GenInputException($"'{p.Data}' has {data.ClassCount} class(es); jem needs labelled images of at least two classes");
        return JemConfig.For(data, p.Data) with
        {
            Arch = p.Arch,
            Stage = StageOf(p),
            Threat = p.Threat,
            Eps = p.AttackEps,
            AttackSteps = p.AttackSteps,
            AttackStepSize = p.AttackStepSize ?? 2.0 * p.AttackEps / p.AttackSteps,
            GenStepSize = p.GenStepSize,
            TMax = p.TMax,
            AucThreshold = p.AucThreshold,
            AucWindow = p.AucWindow,
        };
    }

    public override TrainPlan Plan(JemParams p, JemConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        config.Validate();
        if (data.Channels != config.InChannels || data.Height != config.ImageSize || data.Width != config.ImageSize)
            throw new GenInputException($"'{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the jem model takes {config.InChannels}×{config.ImageSize}×{config.ImageSize}");
        if (!ctx.Resume)   // a resumed run continues from its own state; the warm start is not read
        {
            if (config.Stage == JemConfig.Stage2 && ctx.Init is null)
                throw new GenInputException("stage 2 starts from trained weights: pass --init with a stage-1 run (gen train jem --stage 1), or use --stage both");
            if (ctx.Init is not null) CheckInit(ctx.Init, config);
        }

        ImageSet test = DatasetCatalog.Load(p.EvalData ?? DatasetCatalog.WithSplit(p.Data, Split.Test), Split.Test, ctx.Log);
        ClassifierEval.CheckCompatible(config.InChannels, config.ImageSize, config.ImageSize, config.Dataset, test);
        ImageSet monitor = test.Take(Math.Min(p.MonitorN, test.Count));
        using var init = new Generator((ulong)train.Seed);
        var method = new JemMethod(config, init);
        var hook = new TrainHook("monitor", train.EvalEvery, (_, step) => Monitor(method, config, monitor, step, ctx.Log));
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Hooks = [hook],
            RunInfo = new JsonObject { ["eval_data"] = test.Name, ["jem_stage"] = config.Stage },
        };
    }

    /// <summary>A warm start must be a jem checkpoint of the same network and image shape.</summary>
    private static void CheckInit(string init, JemConfig config)
    {
        string file = Checkpoint.ResolvePath(init);
        if (!File.Exists(file)) throw new GenInputException($"--init '{file}' does not exist; pass a stage-1 run folder or its last.safetensors");
        CheckpointInfo info = Checkpoint.ReadInfo(file);
        if (info.Kind != JemMethod.KindName)
            throw new GenInputException($"--init '{file}' holds a '{info.Kind}' model; stage 2 starts from a jem classifier (gen train jem --stage 1 or --stage plain) of the same --arch");
        var other = Json.Deserialize<JemConfig>(info.ConfigJson, $"the config in '{file}'");
        if (other.Arch != config.Arch || other.InChannels != config.InChannels || other.ImageSize != config.ImageSize || other.Classes != config.Classes)
            throw new GenInputException($"--init '{file}' is a {other.Arch} for {other.InChannels}×{other.ImageSize}×{other.ImageSize} images and {other.Classes} classes, but this run trains a {config.Arch} for {config.InChannels}×{config.ImageSize}×{config.ImageSize} and {config.Classes}; pass a run of the same --arch and data");
    }

    private static IReadOnlyDictionary<string, double> Monitor(JemMethod method, JemConfig config, ImageSet monitor, long step, IProgress<string>? log)
    {
        var model = new JemModel(method.Network, config, "", step, owns: false);
        int steps = 10;
        var attack = new PgdAttack(PgdAttack.ParseThreat(config.Threat), config.Eps, steps, PgdAttack.DefaultStepSize(config.Eps, steps));
        RobustReport r = Robustness.Evaluate(model, monitor, [attack]);
        var row = new Dictionary<string, double> { ["test_acc"] = r.CleanAccuracy, ["test_pgd_acc"] = r.Rows[0].Accuracy };
        string extra = "";
        if (config.Stage == JemConfig.Stage2)
        {
            row["t"] = method.Network.Curriculum.T;
            extra = method.Network.Curriculum.Count == 0
                ? $", T {method.Network.Curriculum.T} (AUC window just cleared)"
                : string.Create(CultureInfo.InvariantCulture, $", T {method.Network.Curriculum.T}, windowed AUC {method.Network.Curriculum.WindowMean:F3}");
        }
        log?.Report(string.Create(CultureInfo.InvariantCulture,
            $"step {step}: clean {r.CleanAccuracy:F3}, PGD-{steps} {config.Threat} {config.Eps:G3} {r.Rows[0].Accuracy:F3} on {r.Count} test images{extra}"));
        return row;
    }

    public override string Describe(TrainResult result)
    {
        var m = result.FinalMetrics;
        var parts = new List<string>();
        if (m.TryGetValue("test_acc", out double a)) parts.Add("clean " + (100 * a).ToString("F1", CultureInfo.InvariantCulture) + "%");
        if (m.TryGetValue("test_pgd_acc", out double r)) parts.Add("PGD " + (100 * r).ToString("F1", CultureInfo.InvariantCulture) + "%");
        if (m.TryGetValue("t", out double t)) parts.Add("T " + t.ToString("F0", CultureInfo.InvariantCulture));
        return string.Join(", ", parts);
    }

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings)
    {
        var settings = ParamSchema.Of<JemSampleSettings>().Bind(new JemSampleSettings(), sampleSettings, $"sampling '{file}'");
        return JemModel.Load(file, settings);
    }
}
