// Evaluating any classifier checkpoint (any kind with IClassifier) on a labelled set: accuracy,
// confusion matrix, an optional captioned prediction grid; `gen eval classifier` and the pipeline's
// eval-classifier stage (which writes eval.json).
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using SkiaSharp;

namespace Gen.Pipeline.Stages;

public sealed record EvalClassifierParams
{
    [Param("Evaluation data (default: the test split of the training data)", Alias = "-d")]
    public string? Data { get; init; }

    [Param("Images per evaluation batch")]
    public int Batch { get; init; } = 500;

    [Param("Write a PNG grid of the first --n images captioned with predictions (green right, red wrong)")]
    public string? Grid { get; init; }

    [Param("Images in the --grid")]
    public int N { get; init; } = 64;

    public int GridScale { get; init; } = 2;

    public void Validate()
    {
        if (Batch <= 0) throw new GenInputException($"--batch must be positive, got {Batch}");
        if (N <= 0) throw new GenInputException($"--n must be positive, got {N}");
    }
}

public sealed record EvalClassifierResult(string Checkpoint, string Data, string Model, long Step, ClassifierReport Report,
                                          IReadOnlyList<string> ClassNames, string? Grid)
{
    /// <summary>How the answers depend on the batch, for a batch-relative classifier ("" otherwise).</summary>
    public string Note { get; init; } = "";
}

public sealed class EvalClassifierStage(MethodRegistry registry) : IStageKind
{
    public const string FileName = "eval.json";

    public string Kind => "eval-classifier";
    public string Summary => "Accuracy and confusion matrix of a classifier checkpoint";
    public IReadOnlyList<StageInputDecl> Inputs => [new("checkpoint", true, "a checkpoint of a kind that classifies"), new("data", false, "labelled evaluation data")];

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        var p = ParamSchema.Of<EvalClassifierParams>().Bind(new EvalClassifierParams(), parameters, where);
        p.Validate();
        return JsonSerializer.SerializeToNode(p with { Batch = 0 }, Json.Options)!;   // the batch size does not change the result
    }

    public string MainOutput(string outputDir) => Path.Combine(outputDir, FileName);

    public StageOutcome Run(StageRun run)
    {
        var p = ParamSchema.Of<EvalClassifierParams>().Bind(new EvalClassifierParams(), run.Params, $"stage '{run.Name}'");
        if (run.Inputs.TryGetValue("data", out string? data)) p = p with { Data = data };
        if (p.Grid is not null) p = p with { Grid = Path.Combine(run.OutputDir, p.Grid) };
        EvalClassifierResult r = Evaluate(run.Inputs["checkpoint"], p, run.Log, run.Cancel);
        AtomicFile.WriteAllText(MainOutput(run.OutputDir), Json.Serialize(ToJson(r)));
        return new StageOutcome(false, ToJson(r), string.Create(CultureInfo.InvariantCulture, $"{r.Data}: accuracy {100 * r.Report.Accuracy:F2}%"));
    }

    public EvalClassifierResult Evaluate(string checkpoint, EvalClassifierParams p, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        p.Validate();
        var classifier = registry.Open<IClassifier>(checkpoint, "classify images");
        using var model = (IModel)classifier;
        string spec = p.Data ?? ClassifierEval.DefaultTestData(classifier);
        ImageSet set = DatasetCatalog.Load(spec, Split.Test, log);
        ClassifierReport report = ClassifierEval.Evaluate(classifier, set, p.Batch, cancel);
        if (p.Grid is not null) WriteGrid(p.Grid, set, report, classifier, Math.Min(p.N, set.Count), p.GridScale);
        return new EvalClassifierResult(Checkpoints.Checkpoint.ResolvePath(checkpoint), set.Name, model.Description, model.Step, report, classifier.ClassNames, p.Grid)
        {
            Note = classifier is IBatchRelativeClassifier r ? r.Note : "",
        };
    }

    private static void WriteGrid(string path, ImageSet data, ClassifierReport report, IClassifier classifier, int n, int scale)
    {
        var captions = new List<Caption>();
        for (int i = 0; i < n; i++)
        {
            int pred = report.Predictions[i], truth = data.Labels[i];
            string name = Short(classifier.ClassNames.ElementAtOrDefault(pred) ?? pred.ToString(CultureInfo.InvariantCulture));
            var color = truth < 0 ? SKColors.White : truth == pred ? new SKColor(90, 220, 90) : new SKColor(255, 90, 90);
            captions.Add(new Caption(name, color));
        }
        var sub = data.Take(n);
        Grid.WritePng(path, sub.Pixels, n, sub.Channels, sub.Height, sub.Width,
                      new GridOptions { NRow = 8, Padding = 2, Scale = scale, PadValue = 24 }, captions);
    }

    private static string Short(string name) => name.Length <= 10 ? name : name[..9] + ".";

    public static JsonObject ToJson(EvalClassifierResult res)
    {
        int k = res.Report.Confusion.GetLength(0);
        var rows = Enumerable.Range(0, k).Select(i => Enumerable.Range(0, k).Select(j => res.Report.Confusion[i, j]).ToArray()).ToArray();
        double[] per = res.Report.PerClassAccuracy();
        return JsonSerializer.SerializeToNode(new
        {
            checkpoint = res.Checkpoint,
            model = res.Model,
            step = res.Step,
            data = res.Data,
            count = res.Report.Count,
            accuracy = res.Report.Accuracy,
            per_class_accuracy = res.ClassNames.Select((name, i) => new { @class = name, accuracy = per.ElementAtOrDefault(i) }),
            class_names = res.ClassNames,
            confusion = rows,
            grid = res.Grid,
            note = res.Note.Length > 0 ? res.Note : null,
        }, Json.Options)!.AsObject();
    }
}
