// The one train stage (docs/architecture.md "Stages"): for any registered method it reads the data,
// hashes the inputs, applies the existing-run and resume rules, turns on flush-to-zero, writes the
// stage manifest, runs the Trainer with the method's plan and reports the result. `gen train <kind>`,
// `gen pretrain` and the pipeline runner's train-<kind> stages all come here.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;

namespace Gen.Pipeline.Stages;

/// <summary>A resolved training request: method options, the shared training options, run options.</summary>
public sealed record TrainRequest(TrainParams Params, TrainConfig Train, RunOptions Run)
{
    public string? Init { get; init; }            // warm start: a checkpoint whose weights the run starts from
}

public sealed class TrainStage(IMethod method) : IStageKind
{
    public const string DataInput = "data";
    public const string InitInput = "init";

    public IMethod Method => method;
    public string Kind => "train-" + method.Name;
    public string Summary => method.Summary;

    public IReadOnlyList<StageInputDecl> Inputs =>
    [
        new(DataInput, false, "training data (default: the data parameter, fashion-mnist)"),
        new(InitInput, false, "a checkpoint whose weights the run starts from"),
    ];

    /// <summary>Every option a train-KIND stage takes: the method's, the shared training options, run options.</summary>
    public IEnumerable<ParamSpec> Specs =>
        ParamSchema.Of(method.ParamsType).Specs.Concat(ParamSchema.Of<TrainConfig>().Specs).Concat(ParamSchema.Of<RunOptions>().Specs);

    /// <summary>Binds given options (keyed by option name) over the method's defaults and recipe.</summary>
    public TrainRequest Bind(JsonObject given, string where)
    {
        var methodSchema = ParamSchema.Of(method.ParamsType);
        var trainSchema = ParamSchema.Of<TrainConfig>();
        var runSchema = ParamSchema.Of<RunOptions>();
        var known = methodSchema.Specs.Concat(trainSchema.Specs).Concat(runSchema.Specs).Select(s => s.FileKey);
        methodSchema.CheckKeys(given, where, known);
        TrainParams p = (TrainParams)methodSchema.BindAny(method.DefaultParams(), methodSchema.Pick(given), where);
        p.Validate();
        JsonObject trainGiven = trainSchema.Pick(given);
        int? batch = trainGiven.ContainsKey("batch") ? trainSchema.Bind(new TrainConfig(), new JsonObject { ["batch"] = trainGiven["batch"]!.DeepClone() }, where).Batch : null;
        TrainConfig recipe = method.Recipe(p, batch);
        // --steps and --epochs are two ways to give one length: the one given replaces the recipe's.
        if (trainGiven.ContainsKey("steps")) recipe = recipe with { Epochs = 0 };
        else if (trainGiven.ContainsKey("epochs")) recipe = recipe with { Steps = 0 };
        TrainConfig train = trainSchema.Bind(recipe, trainGiven, where);
        if (trainGiven.ContainsKey("steps") && train.Steps <= 0) throw new GenInputException($"--steps must be positive, got {train.Steps}");
        if (trainGiven.ContainsKey("epochs") && !(train.Epochs > 0)) throw new GenInputException($"--epochs must be positive, got {train.Epochs}");
        train.Validate();
        RunOptions run = runSchema.Bind(method.RunDefaults(p), runSchema.Pick(given), where);
        run.Validate();
        return new TrainRequest(p, train, run);
    }

    /// <summary>What enters the key: the method options (less the data reference, an input) and the training options.</summary>
    public static JsonNode Semantic(TrainRequest r) => new JsonObject
    {
        ["method"] = JsonSerializer.SerializeToNode(r.Params with { Data = "" }, r.Params.GetType(), Json.Options),
        ["train"] = JsonSerializer.SerializeToNode(r.Train, Json.Options),
    };

    public JsonNode Resolve(JsonObject parameters, string where) => Semantic(Bind(parameters, where));

    public StageOutcome Run(StageRun run)
    {
        TrainRequest r = Bind(run.Params, $"stage '{run.Name}'");
        if (run.Inputs.TryGetValue(DataInput, out string? data)) r = r with { Params = r.Params with { Data = data } };
        if (run.Inputs.TryGetValue(InitInput, out string? init)) r = r with { Init = init };
        TrainResult result = Train(r, run.OutputDir, run.Resume, run.Progress, run.Log, run.Cancel, inputHashes: run.InputHashes);
        return Outcome(result);
    }

    public StageOutcome Outcome(TrainResult result) => new(result.Interrupted, ResultJson(result),
        result.Interrupted
            ? $"interrupted at step {result.Step}; checkpoint {result.LastCheckpoint}"
            : string.Create(CultureInfo.InvariantCulture, $"trained {result.Step} steps in {result.ElapsedSeconds:F0} s; {Describe(result)}checkpoint {result.LastCheckpoint}"));

    private string Describe(TrainResult result)
    {
        string d = method.Describe(result);
        return d.Length == 0 ? "" : d + "; ";
    }

    private static JsonNode ResultJson(TrainResult r) => new JsonObject
    {
        ["step"] = r.Step,
        ["checkpoint"] = r.LastCheckpoint,
        ["interrupted"] = r.Interrupted,
        ["metrics"] = JsonSerializer.SerializeToNode(r.FinalMetrics, Json.Options),
        ["elapsed_s"] = r.ElapsedSeconds,
    };

    /// <summary>
    /// Trains. <paramref name="data"/> replaces loading Params.Data (tests pass in-memory sets);
    /// <paramref name="inputHashes"/> comes from the runner (otherwise the inputs are hashed here).
    /// A method with earlier phases (IMethod.Phases) trains each in its subfolder first, skipping a
    /// finished one on --resume, and the requested run starts from the last phase's weights.
    /// </summary>
    public TrainResult Train(TrainRequest r, string outDir, bool resume, IProgress<TrainProgress>? progress = null,
                             IProgress<string>? log = null, CancellationToken cancel = default, ImageSet? data = null,
                             IReadOnlyDictionary<string, string>? inputHashes = null)
    {
        r.Params.Validate();
        Denormals.Configure(r.Run.Threads);   // before the first tensor op: libtorch's worker threads inherit flush-to-zero
        ImageSet train = data ?? DatasetCatalog.Load(r.Params.Data, Split.Train, log);
        var (before, final) = method.Phases(r.Params, r.Train, r.Run);
        if (before.Count == 0) return TrainOne(r, outDir, resume, progress, log, cancel, train, data is null, inputHashes);

        bool started = File.Exists(Path.Combine(outDir, Trainer.StateFile));
        if (!resume) Trainer.CheckFolder(outDir, false);
        foreach (TrainPhase phase in before)
        {
            string sub = Path.Combine(outDir, phase.Folder);
            bool hasState = File.Exists(Path.Combine(sub, Trainer.StateFile));
            if (!(resume && (started || Finished(sub))))
            {
                if (resume && !hasState && !started) Trainer.CheckFolder(sub, true);   // nothing at all to resume
                log?.Report($"{phase.Folder}: training in {sub}");
                var req = new TrainRequest(phase.Params with { Data = r.Params.Data }, phase.Train, phase.Run) { Init = r.Init };
                TrainResult res = TrainOne(req, sub, resume && hasState, progress, log, cancel, train, data is null, inputHashes);
                if (res.Interrupted) return res;
            }
            r = r with { Init = Trainer.LastPath(sub) };
        }
        r = r with { Params = final };
        return TrainOne(r, outDir, resume && started, progress, log, cancel, train, data is null, null);
    }

    /// <summary>True when <paramref name="runDir"/> holds a run that reached its planned steps.</summary>
    private static bool Finished(string runDir)
    {
        string cfg = Path.Combine(runDir, Trainer.ConfigFile), last = Trainer.LastPath(runDir);
        if (!File.Exists(cfg) || !File.Exists(last)) return false;
        long? total = JsonNode.Parse(File.ReadAllText(cfg))?["total_steps"]?.GetValue<long>();
        return total is { } t && Checkpoints.Checkpoint.ReadInfo(last).Step >= t;
    }

    private TrainResult TrainOne(TrainRequest r, string outDir, bool resume, IProgress<TrainProgress>? progress, IProgress<string>? log,
                                 CancellationToken cancel, ImageSet train, bool hashData, IReadOnlyDictionary<string, string>? inputHashes)
    {
        var inputs = new List<StageInput>();
        if (hashData)
            inputs.Add(new StageInput(DataInput, r.Params.Data, inputHashes?.GetValueOrDefault(DataInput) ?? ContentHash.OfData(r.Params.Data, Split.Train)));
        if (r.Init is not null)
            inputs.Add(new StageInput(InitInput, r.Init, inputHashes?.GetValueOrDefault(InitInput) ?? ContentHash.OfPath(Checkpoints.Checkpoint.ResolvePath(r.Init))));

        string statePath = Path.Combine(outDir, Trainer.StateFile), configPath = Path.Combine(outDir, Trainer.ConfigFile);
        JsonNode? stored = resume && File.Exists(statePath) && File.Exists(configPath)
            ? JsonNode.Parse(File.ReadAllText(configPath))?["model"] : null;
        var ctx = new TrainContext { OutputDir = outDir, Log = log, Cancel = cancel, Init = r.Init, Resume = resume };
        TrainPlan plan = method.Plan(r.Params, r.Train, train, stored, ctx);
        using ITrainMethod trainMethod = plan.Method;

        var manifest = new StageManifest
        {
            Kind = Kind,
            Params = Semantic(r),
            Inputs = inputs,
            Outputs = [Trainer.LastFile, Trainer.StateFile, Trainer.MetricsFile, Trainer.ConfigFile, Trainer.PlotDir, Trainer.SnapshotDir, .. plan.ExtraOutputs],
        };
        var runInfo = plan.RunInfo;
        runInfo["stage"] = Kind;
        var trainer = new Trainer(trainMethod, plan.Batches ?? new ImageBatchSource(train), plan.Train, r.Run, outDir, progress, plan.Hooks, runInfo)
        {
            WarmStart = r.Init is null ? null : Checkpoints.Checkpoint.ResolvePath(r.Init),
        };
        Trainer.CheckFolder(outDir, resume);   // before the manifest is written, so a refused run changes nothing
        return manifest.Run(outDir, () => trainer.Run(resume, cancel), res => (res.Interrupted, ResultJson(res)));
    }
}
