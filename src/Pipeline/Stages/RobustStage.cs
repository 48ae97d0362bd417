// PGD robustness of any classifier checkpoint (docs/methods/jem-at.md §1, §2): clean and
// robust accuracy on the first --n labelled images, for one threat model and a list of radii (or a
// list of threat:radius pairs), optionally beside a baseline checkpoint under the same attacks.
// `gen robust` and the pipeline's robust stage (which writes robust.json).
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;

namespace Gen.Pipeline.Stages;

public sealed record RobustParams
{
    [Param("Evaluation data (default: the test split of the training data)", Alias = "-d")]
    public string? Data { get; init; }

    [Param("Images evaluated (the first N labelled ones)")]
    public int N { get; init; } = 1000;

    [Param("Threat model: l2 or linf")]
    public string Threat { get; init; } = "l2";

    [Param("Radii of the threat ball, e.g. 0.5 or 0.5,1,1.5")]
    public double[] Eps { get; init; } = [0.5];

    [Param("Attacks as threat:radius pairs, e.g. l2:0.5,linf:0.05 (replaces --threat and --eps)")]
    public string? Attacks { get; init; }

    [Param("PGD steps")]
    public int Steps { get; init; } = 20;

    [Param("PGD step (default 2.5·eps/steps)")]
    public double? StepSize { get; init; }

    [Param("Attack restarts; restarts after the first start at a random point of the ball")]
    public int Restarts { get; init; } = 1;

    [Param("Images per batch")]
    public int Batch { get; init; } = 250;

    [Param("Seed of the random restarts")]
    public long Seed { get; init; }

    [Param("libtorch intra-op threads (0 = default)")]
    public int Threads { get; init; }

    public IReadOnlyList<PgdAttack> Build()
    {
        if (N <= 0) throw new GenInputException($"--n must be positive, got {N}");
        if (Batch <= 0) throw new GenInputException($"--batch must be positive, got {Batch}");
        if (Steps < 1) throw new GenInputException($"--steps must be at least 1, got {Steps}");
        if (Restarts < 1) throw new GenInputException($"--restarts must be at least 1, got {Restarts}");
        var pairs = new List<(Threat, double)>();
        if (Attacks is not null)
        {
            foreach (string part in Attacks.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string[] kv = part.Split(':');
                if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double e))
                    throw new GenInputException($"--attacks takes threat:radius pairs such as l2:0.5,linf:0.05, got '{part}'");
                pairs.Add((PgdAttack.ParseThreat(kv[0]), e));
            }
            if (pairs.Count == 0) throw new GenInputException("--attacks is empty; give threat:radius pairs such as l2:0.5");
        }
        else
        {
            if (Eps.Length == 0) throw new GenInputException("--eps needs at least one radius");
            pairs.AddRange(Eps.Select(e => (PgdAttack.ParseThreat(Threat), e)));
        }
        var attacks = pairs.Select(p => new PgdAttack(p.Item1, p.Item2, Steps, StepSize ?? PgdAttack.DefaultStepSize(p.Item2, Steps))).ToList();
        foreach (var a in attacks) a.Validate();
        return attacks;
    }
}

public sealed record RobustResult(string Checkpoint, string Model, long Step, string Data, RobustReport Report);

public sealed class RobustStage(MethodRegistry registry) : IStageKind
{
    public const string FileName = "robust.json";

    public string Kind => "robust";
    public string Summary => "Clean and PGD accuracy of a classifier checkpoint (and a baseline under the same attacks)";
    public IReadOnlyList<StageInputDecl> Inputs =>
    [
        new("checkpoint", true, "a checkpoint of a kind that classifies"),
        new("baseline", false, "a second classifier evaluated under the same attacks"),
        new("data", false, "labelled evaluation data"),
    ];

    public JsonNode Resolve(JsonObject parameters, string where)
    {
        var p = ParamSchema.Of<RobustParams>().Bind(new RobustParams(), parameters, where);
        p.Build();
        return JsonSerializer.SerializeToNode(p with { Batch = 0, Threads = 0 }, Json.Options)!;   // neither changes the result
    }

    public string MainOutput(string outputDir) => Path.Combine(outputDir, FileName);

    public StageOutcome Run(StageRun run)
    {
        var p = ParamSchema.Of<RobustParams>().Bind(new RobustParams(), run.Params, $"stage '{run.Name}'");
        if (run.Inputs.TryGetValue("data", out string? data)) p = p with { Data = data };
        Denormals.Configure(p.Threads);
        var results = Evaluate(run.Inputs["checkpoint"], run.Inputs.GetValueOrDefault("baseline"), p, run.Log, run.Cancel);
        JsonObject json = ToJson(results);
        AtomicFile.WriteAllText(MainOutput(run.OutputDir), Json.Serialize(json));
        var r = results[0].Report;
        string rows = string.Join(", ", r.Rows.Select(x => string.Create(CultureInfo.InvariantCulture, $"{x.Threat} {x.Eps:G3} {x.Accuracy:F3}")));
        return new StageOutcome(false, json, string.Create(CultureInfo.InvariantCulture, $"clean {r.CleanAccuracy:F3}; {rows} (N = {r.Count})"));
    }

    /// <summary>The checkpoint, then the baseline if any, under the same attacks.</summary>
    public IReadOnlyList<RobustResult> Evaluate(string checkpoint, string? baseline, RobustParams p, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        var results = new List<RobustResult> { Evaluate(checkpoint, p, log, cancel) };
        if (baseline is not null) results.Add(Evaluate(baseline, p, log, cancel));
        return results;
    }

    public RobustResult Evaluate(string checkpoint, RobustParams p, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        IReadOnlyList<PgdAttack> attacks = p.Build();
        var classifier = registry.Open<IClassifier>(checkpoint, "be attacked (gen robust needs a classifier)", gradients: true);
        using var model = (IModel)classifier;
        string spec = p.Data ?? ClassifierEval.DefaultTestData(classifier);
        ImageSet set = DatasetCatalog.Load(spec, Split.Test, log);
        set = set.Take(Math.Min(p.N, set.Count));   // Robustness.Evaluate checks the shape against the classifier
        RobustReport report = Robustness.Evaluate(classifier, set, attacks, p.Restarts, p.Batch, p.Seed, log, cancel);
        return new RobustResult(Checkpoints.Checkpoint.ResolvePath(checkpoint), model.Description, model.Step, set.Name, report);
    }

    public static JsonObject ToJson(IReadOnlyList<RobustResult> results) => new()
    {
        ["models"] = JsonSerializer.SerializeToNode(results.Select(r => new
        {
            checkpoint = r.Checkpoint,
            model = r.Model,
            step = r.Step,
            data = r.Data,
            count = r.Report.Count,
            clean_accuracy = r.Report.CleanAccuracy,
            attacks = r.Report.Rows.Select(x => new { threat = x.Threat, eps = x.Eps, steps = x.Steps, step_size = x.StepSize, restarts = x.Restarts, accuracy = x.Accuracy }),
        }), Json.Options),
    };
}
