// The detector as a registered method (docs/methods/detection.md §3): BCE-with-logits on FAKE = 1,
// Adam 1e-3, batch 64, 10 epochs, no augmentation; 10 % of the training images held out (a seeded
// draw), validation accuracy after every epoch, and the weights of the best epoch kept as
// best.safetensors, which a run folder then stands for.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Representation.Detection;

public sealed record DetectorParams : TrainParams
{
    [Param("Architecture: cifake (as replicated), cifake-wide or resnet-s")]
    public string Arch { get; init; } = DetectorConfig.Cifake;

    [Param("Fraction of the training images held out for validation (best-epoch selection)")]
    public double ValFrac { get; init; } = 0.1;

    [Param("Test data scored after every epoch (default: the test split of --data when it has one)")]
    public string? EvalData { get; init; }

    public DetectorParams() => Data = "";

    public override void Validate()
    {
        if (string.IsNullOrWhiteSpace(Data))
            throw new GenInputException("--data is required: a folder in the CIFAKE layout (train|test/REAL|FAKE), e.g. one written by gen detect build-dataset");
        if (!DetectorConfig.Archs.Contains(Arch))
            throw new GenInputException($"--arch '{Arch}' is not a detector architecture; use one of {string.Join(", ", DetectorConfig.Archs)}");
        if (!(ValFrac >= 0 && ValFrac < 1)) throw new GenInputException($"--val-frac must be in [0, 1), got {ValFrac}");
    }
}

public sealed class DetectorMethod(DetectorConfig config, Generator init) : ITrainMethod
{
    private readonly DetectorNet _net = new(config, init);

    public DetectorNet Network => _net;
    public string Kind => DetectorModel.KindName;
    public string ConfigJson => Json.Serialize(config, indented: false);
    public nn.Module Model => _net;

    public StepOutput Step(Batch batch, StepContext ctx)
    {
        Tensor z = _net.call(batch.Images);
        Tensor y = batch.Labels.to_type(ScalarType.Float32);
        Tensor loss = nn.functional.binary_cross_entropy_with_logits(z, y);
        Tensor acc = z.gt(0).eq(batch.Labels.eq(DetectionData.FakeLabel)).to_type(ScalarType.Float32).mean();
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["train_acc"] = acc });
    }

    public void Dispose() => _net.Dispose();
}

public sealed class DetectorTraining : Method<DetectorParams, DetectorConfig>
{
    public const string BestFile = Checkpoint.BestFile;

    public override string Name => DetectorModel.KindName;
    public override string Summary => "Train a real-vs-fake detector (CIFAKE-style CNN) on a REAL/FAKE image set";
    public override IReadOnlyList<string> CheckpointKinds => [DetectorModel.KindName];
    public override IReadOnlyList<Type> Capabilities => [typeof(IClassifier), typeof(IConvClassifier), typeof(Gen.Pipeline.Onnx.IOnnxExportable)];

    public override TrainConfig Recipe(DetectorParams p, int? batch) => new()
    {
        Epochs = 10,
        Batch = 64,
        Lr = 1e-3,
        Optimizer = OptimizerKind.Adam,
        WeightDecay = 0,
        Schedule = LrScheduleKind.Constant,
    };

    public override DetectorConfig BuildConfig(DetectorParams p, ImageSet data)
    {
        var config = DetectorConfig.For(p.Arch, data.Channels, data.Height, p.Data);
        if (data.Height != data.Width)
            throw new GenInputException($"'{data.Name}' has {data.Width}x{data.Height} images; the detector takes square images");
        config.Validate();
        return config;
    }

    public override TrainPlan Plan(DetectorParams p, DetectorConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        ImageSet all = DetectionData.Binary(data);
        if (all.Channels != config.InChannels || all.Height != config.ImageSize)
            throw new GenInputException($"'{data.Name}' has {all.Channels}x{all.Height}x{all.Width} images but the run's detector takes {config.InChannels}x{config.ImageSize}x{config.ImageSize}");
        var (fit, val) = Holdout(all, p.ValFrac, train.Seed);
        if (fit.Count < 2) throw new GenInputException($"'{data.Name}' leaves {fit.Count} training image(s) after the validation hold-out; use more images or a smaller --val-frac");
        string? evalSpec = p.EvalData ?? DefaultTest(p.Data);
        ImageSet? test = evalSpec is null ? null : DetectionData.Load(evalSpec, Split.Test, ctx.Log);
        if (test is not null) Gen.Pipeline.Classifier.ClassifierEval.CheckCompatible(config.InChannels, config.ImageSize, config.ImageSize, config.Dataset, test);

        using var init = new Generator((ulong)train.Seed);
        var method = new DetectorMethod(config, init);
        var model = new DetectorModel(method.Network, config, "", 0, owns: false);
        long perEpoch = (fit.Count + train.Batch - 1) / train.Batch;
        if (train.EvalEvery == 0) train = train with { EvalEvery = perEpoch };

        string best = Path.Combine(ctx.OutputDir, BestFile);
        double bestAcc = ctx.Resume && File.Exists(best) && Checkpoint.ReadInfo(best).Metadata.TryGetValue("gen.val_acc", out string? v)
            ? double.Parse(v, CultureInfo.InvariantCulture) : double.NegativeInfinity;
        var hook = new TrainHook("val_acc", train.EvalEvery, (_, step) =>
        {
            var row = new Dictionary<string, double>();
            if (val.Count > 0)
            {
                double acc = DetectionMetrics.Evaluate(model, val, ctx.Cancel).Accuracy;
                row["val_acc"] = acc;
                if (acc > bestAcc)
                {
                    bestAcc = acc;
                    Checkpoint.Save(best, method.Network, DetectorModel.KindName, method.ConfigJson, step,
                        new Dictionary<string, string> { ["gen.val_acc"] = acc.ToString("R", CultureInfo.InvariantCulture) });
                }
            }
            if (test is not null)
            {
                var r = DetectionMetrics.Evaluate(model, test, ctx.Cancel);
                row["test_acc"] = r.Accuracy;
                row["test_auc"] = r.RocAuc;
            }
            return row;
        });
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Batches = new ImageBatchSource(fit),
            Hooks = [hook],
            RunInfo = new JsonObject { ["train_images"] = fit.Count, ["val_images"] = val.Count, ["eval_data"] = test?.Name },
            ExtraOutputs = val.Count > 0 ? [BestFile] : [],
        };
    }

    /// <summary>A detector of <paramref name="config"/> trained from scratch with the default recipe for
    /// <paramref name="epochs"/> epochs into the scratch run folder <paramref name="dir"/> (replaced if it
    /// exists), returned in eval mode; the caller disposes it. Used where many detectors are trained
    /// in one command (detect-curve, detect search).</summary>
    public static DetectorMethod TrainFresh(DetectorConfig config, ImageSet train, int epochs, long seed, int threads, string dir, CancellationToken cancel)
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        TrainConfig recipe = new DetectorTraining().Recipe(new DetectorParams { Data = train.Name, Arch = config.Arch }, null) with { Epochs = epochs, Seed = seed };
        using var init = new Generator((ulong)seed);
        var method = new DetectorMethod(config, init);
        try
        {
            new Trainer(method, new ImageBatchSource(train), recipe, new RunOptions { Threads = threads, CheckpointEvery = 0 }, dir).Run(resume: false, cancel);
        }
        catch
        {
            method.Dispose();
            throw;
        }
        method.Network.eval();
        return method;
    }

    /// <summary>A seeded random hold-out of round(frac·N) images, the rest for fitting.</summary>
    public static (ImageSet Fit, ImageSet Val) Holdout(ImageSet all, double frac, long seed)
    {
        int nVal = (int)Math.Round(frac * all.Count);
        int[] order = DetectionData.Permutation(all.Count, new Random((int)(seed & 0x7fffffff) ^ 0x5eed));
        int[] val = order[..nVal].Order().ToArray(), fit = order[nVal..].Order().ToArray();
        return (all.Select(fit, all.Name + " (fit)"), all.Select(val, all.Name + " (validation)"));
    }

    private static string? DefaultTest(string data)
    {
        string folder = DetectionData.WithoutPrefix(data);
        return Directory.Exists(Path.Combine(folder, "test")) ? Path.Combine(folder, "test") : null;
    }

    public override string Describe(TrainResult result)
    {
        var parts = new List<string>();
        if (result.FinalMetrics.TryGetValue("val_acc", out double v)) parts.Add("validation accuracy " + (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%");
        if (result.FinalMetrics.TryGetValue("test_acc", out double t)) parts.Add("test accuracy " + (100 * t).ToString("F2", CultureInfo.InvariantCulture) + "%");
        if (result.FinalMetrics.TryGetValue("test_auc", out double a)) parts.Add("test ROC-AUC " + a.ToString("F4", CultureInfo.InvariantCulture));
        parts.Add($"best epoch kept in {BestFile}");
        return string.Join("; ", parts) + " (last epoch's figures)";
    }

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings) => DetectorModel.Load(file);
}
