// The classifier's stages: train (data → run folder with checkpoints) and eval (checkpoint + data →
// accuracy, confusion matrix, optional captioned prediction grid).
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Models;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace Gen.Pipeline.Classifier;

public sealed record TrainClassifierParams
{
    public string Data { get; init; } = "fashion-mnist";
    public string? EvalData { get; init; }              // default: the test split of Data
    public required TrainConfig Train { get; init; }
    public int Width { get; init; } = 32;               // stage widths are Width·(1, 2, 4)
    public int[] Blocks { get; init; } = [2, 2, 2];
    public int StemStride { get; init; } = 2;
    public double LabelSmoothing { get; init; } = 0;
    public bool Resume { get; init; }
}

public sealed class TrainClassifierStage : IStage<TrainClassifierParams, TrainResult>
{
    private readonly IProgress<TrainProgress>? _progress;

    public TrainClassifierStage(IProgress<TrainProgress>? progress = null) => _progress = progress;

    public string Kind => "train-classifier";

    public IReadOnlyList<StageInput> Inputs(TrainClassifierParams p) => [DataInput("data", p.Data, Split.Train)];

    internal static StageInput DataInput(string name, string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        string source = r.ShortName is not null
            ? DatasetCatalog.Locate(DatasetCatalog.Known[r.ShortName])
            : r.Path!;
        return new StageInput(name, $"{spec} ({DatasetCatalog.SplitName(r.Split ?? split)})", ContentHash.OfPath(source));
    }

    public TrainResult Run(TrainClassifierParams p, StageContext ctx)
    {
        Denormals.FlushToZero();   // before libtorch starts its intra-op threads (they inherit the flag)
        ImageSet train = DatasetCatalog.Load(p.Data, Split.Train, ctx.Log);
        string evalSpec = p.EvalData ?? WithSplit(p.Data, Split.Test);
        ImageSet test = DatasetCatalog.Load(evalSpec, Split.Test, ctx.Log);
        if (train.ClassCount < 2)
            throw new GenInputException($"'{p.Data}' has {train.ClassCount} class(es); a classifier needs labelled images of at least two classes");

        var resnet = new ResNetConfig
        {
            Widths = [p.Width, 2 * p.Width, 4 * p.Width],
            Blocks = p.Blocks,
            StemStride = p.StemStride,
        };
        if (p.Blocks.Length != 3) throw new GenInputException($"--blocks takes three counts (one per stage), got {p.Blocks.Length}");
        ClassifierConfig config = ClassifierConfig.For(train, resnet) with { LabelSmoothing = p.LabelSmoothing, Dataset = p.Data };
        if (p.Resume && File.Exists(Path.Combine(ctx.OutputDir, Trainer.StateFile)))
        {
            // The stored model config is authoritative on resume (normalisation was measured on the data then).
            var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(ctx.OutputDir, Trainer.ConfigFile)))?["model"];
            if (saved is not null) config = saved.Deserialize<ClassifierConfig>(Json.Options) ?? config;
        }
        ClassifierEval.CheckCompatible(config, test);

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

        using var init = new Generator((ulong)p.Train.Seed);
        using var method = new ClassifierMethod(config, init);
        int evalBatch = 500;
        Evaluator evaluate = m =>
        {
            var report = ClassifierEval.Evaluate((ResNet)m, config, test, evalBatch);
            return new Dictionary<string, double> { ["test_acc"] = report.Accuracy };
        };
        var trainer = new Trainer(method, train, p.Train, ctx.OutputDir, _progress, evaluate,
                                  new JsonObject { ["stage"] = Kind, ["eval_data"] = test.Name });
        return manifest.RunTraining(ctx.OutputDir, () => trainer.Run(p.Resume, ctx.Cancel));
    }

    internal static string WithSplit(string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        string body = r.ShortName ?? r.Path!;
        return $"{body}:{DatasetCatalog.SplitName(split)}";
    }
}

public sealed record EvalClassifierParams
{
    public required string Checkpoint { get; init; }
    public string? Data { get; init; }                  // default: the test split of the training data
    public int Batch { get; init; } = 500;
    public string? GridPath { get; init; }
    public int GridCount { get; init; } = 64;
    public int GridScale { get; init; } = 2;
    public int Threads { get; init; }
}

public sealed record EvalClassifierResult(string Checkpoint, string Data, long Step, ClassifierReport Report,
                                          IReadOnlyList<string> ClassNames, string? Grid);

public sealed class EvalClassifierStage : IStage<EvalClassifierParams, EvalClassifierResult>
{
    public string Kind => "eval-classifier";

    public IReadOnlyList<StageInput> Inputs(EvalClassifierParams p) =>
        [new StageInput("checkpoint", p.Checkpoint, ContentHash.OfPath(Checkpoints.Checkpoint.ResolvePath(p.Checkpoint)))];

    public EvalClassifierResult Run(EvalClassifierParams p, StageContext ctx)
    {
        if (p.Batch <= 0) throw new GenInputException($"--batch must be positive, got {p.Batch}");
        if (p.GridCount <= 0) throw new GenInputException($"--n must be positive, got {p.GridCount}");
        if (p.GridScale <= 0) throw new GenInputException($"--scale must be positive, got {p.GridScale}");
        Denormals.Configure(p.Threads);
        var (model, config, info) = ClassifierEval.Load(p.Checkpoint);
        using (model)
        {
            string spec = p.Data ?? TrainClassifierStage.WithSplit(config.Dataset.Length > 0 ? config.Dataset : "fashion-mnist", Split.Test);
            ImageSet data = DatasetCatalog.Load(spec, Split.Test, ctx.Log);
            ClassifierReport report = ClassifierEval.Evaluate(model, config, data, p.Batch);
            string? grid = null;
            if (p.GridPath is not null)
            {
                int n = Math.Min(p.GridCount, data.Count);
                var captions = new List<Caption>();
                for (int i = 0; i < n; i++)
                {
                    int pred = report.Predictions[i], truth = data.Labels[i];
                    string name = Short(config.ClassNames.ElementAtOrDefault(pred) ?? pred.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    var color = truth < 0 ? SKColors.White : truth == pred ? new SKColor(90, 220, 90) : new SKColor(255, 90, 90);
                    captions.Add(new Caption(name, color));
                }
                var sub = data.Take(n);
                Grid.WritePng(p.GridPath, sub.Pixels, n, sub.Channels, sub.Height, sub.Width,
                              new GridOptions { NRow = 8, Padding = 2, Scale = p.GridScale, PadValue = 24 }, captions);
                grid = p.GridPath;
            }
            return new EvalClassifierResult(Checkpoints.Checkpoint.ResolvePath(p.Checkpoint), data.Name, info.Step, report, config.ClassNames, grid);
        }
    }

    private static string Short(string name) => name.Length <= 10 ? name : name[..9] + ".";
}
