// The method registry's unit (docs/architecture.md "The method registry"): one descriptor per
// trainable kind. It declares its options (a TrainParams record with [Param] properties), its recipe
// (the defaults of the shared training options), how to build a training run from the options and the
// data, and how to open its checkpoints as capabilities. Method<TParams, TConfig> implements the
// plumbing every method shares: typed options and "the model config stored in a run wins on resume".
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;

namespace Gen.Pipeline.Methods;

/// <summary>Options every training method has; a method's own record derives from it.</summary>
public abstract record TrainParams
{
    [Param("Training data: fashion-mnist, mnist, cifar10, cifar100, a folder, or NAME:train", Alias = "-d")]
    public string Data { get; init; } = "fashion-mnist";

    /// <summary>Every rule about the options (one-line GenInputException naming the option); the train
    /// stage calls it once the options are bound, for new and resumed runs alike.</summary>
    public virtual void Validate() { }
}

/// <summary>What a training run needs besides options and data.</summary>
public sealed class TrainContext
{
    public required string OutputDir { get; init; }
    public IProgress<string>? Log { get; init; }
    public CancellationToken Cancel { get; init; }

    /// <summary>The checkpoint the run warm-starts from (--init), if any.</summary>
    public string? Init { get; init; }

    /// <summary>True when the run continues from its resume state (the warm start is then ignored).</summary>
    public bool Resume { get; init; }
}

/// <summary>A run that precedes the requested one (e.g. stage 1 of a two-stage recipe): it trains in
/// the subfolder <paramref name="Folder"/> of the run folder, and the next run starts from its weights.</summary>
public sealed record TrainPhase(string Folder, TrainParams Params, TrainConfig Train, RunOptions Run);

/// <summary>A method's training run: the step, the final training options, hooks and records.</summary>
public sealed record TrainPlan
{
    public required ITrainMethod Method { get; init; }
    public required TrainConfig Train { get; init; }
    public IBatchSource? Batches { get; init; }                  // null: the training ImageSet
    public IReadOnlyList<TrainHook> Hooks { get; init; } = [];
    public JsonObject RunInfo { get; init; } = new();
    public IReadOnlyList<string> ExtraOutputs { get; init; } = [];
}

public interface IMethod
{
    /// <summary>`gen train NAME`; the stage kind is train-NAME.</summary>
    string Name { get; }

    /// <summary>One line for --help.</summary>
    string Summary { get; }

    /// <summary>The options record (derives from TrainParams; [Param] properties are options).</summary>
    Type ParamsType { get; }

    /// <summary>The gen.kind values of the checkpoints this method writes and opens.</summary>
    IReadOnlyList<string> CheckpointKinds { get; }

    TrainParams DefaultParams();

    /// <summary>Methods that share options and one command (`gen pretrain --method NAME`), or null.</summary>
    string? Family => null;

    /// <summary>The recipe: defaults of the shared training options for these method options and the
    /// batch size the user chose, if any (recipes scale the learning rate with it).</summary>
    TrainConfig Recipe(TrainParams p, int? batch);

    /// <summary>Run defaults (threads, log and checkpoint cadence) of the recipe.</summary>
    RunOptions RunDefaults(TrainParams p) => new();

    /// <summary>Runs to train before the requested one, and the options of the requested run itself
    /// (default: none before, the options unchanged).</summary>
    (IReadOnlyList<TrainPhase> Before, TrainParams Final) Phases(TrainParams p, TrainConfig train, RunOptions run) => ([], p);

    /// <summary>Builds the run; <paramref name="storedModelConfig"/> is the model config of the run being resumed.</summary>
    TrainPlan Plan(TrainParams p, TrainConfig train, ImageSet data, JsonNode? storedModelConfig, TrainContext ctx);

    /// <summary>The line a finished run reports after "trained N steps in S s; ".</summary>
    string Describe(TrainResult result) =>
        string.Join("; ", result.FinalMetrics.Select(kv => $"{kv.Key} {kv.Value:G4}"));

    /// <summary>The capability interfaces its checkpoints implement (IImageSampler, IClassifier, IEncoder).</summary>
    IReadOnlyList<Type> Capabilities { get; }

    /// <summary>The capabilities of one of its checkpoint kinds (a method writing several kinds, e.g. a
    /// model and its baselines, may give each kind a part of Capabilities).</summary>
    IReadOnlyList<Type> CapabilitiesOf(string kind) => Capabilities;

    /// <summary>Options of this method's sampler (a record with [Param] properties), or null.</summary>
    Type? SampleSettingsType => null;

    /// <summary>Opens one of this method's checkpoints; sampler settings apply when it samples images.</summary>
    IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings);
}

/// <summary>The typed base every method uses.</summary>
public abstract class Method<TParams, TConfig> : IMethod where TParams : TrainParams, new()
{
    public abstract string Name { get; }
    public abstract string Summary { get; }
    public abstract IReadOnlyList<string> CheckpointKinds { get; }
    public Type ParamsType => typeof(TParams);
    public virtual Type? SampleSettingsType => null;
    public abstract IReadOnlyList<Type> Capabilities { get; }
    public virtual IReadOnlyList<Type> CapabilitiesOf(string kind) => Capabilities;

    public virtual TParams Defaults() => new();
    TrainParams IMethod.DefaultParams() => Defaults();

    public virtual string? Family => null;

    public abstract TrainConfig Recipe(TParams p, int? batch);
    TrainConfig IMethod.Recipe(TrainParams p, int? batch) => Recipe((TParams)p, batch);

    public virtual RunOptions RunDefaults(TParams p) => new();
    RunOptions IMethod.RunDefaults(TrainParams p) => RunDefaults((TParams)p);

    public virtual (IReadOnlyList<TrainPhase> Before, TrainParams Final) Phases(TParams p, TrainConfig train, RunOptions run) => ([], p);
    (IReadOnlyList<TrainPhase> Before, TrainParams Final) IMethod.Phases(TrainParams p, TrainConfig train, RunOptions run) => Phases((TParams)p, train, run);

    /// <summary>The model config for a new run (validated).</summary>
    public abstract TConfig BuildConfig(TParams p, ImageSet data);

    public abstract TrainPlan Plan(TParams p, TConfig config, TrainConfig train, ImageSet data, TrainContext ctx);

    TrainPlan IMethod.Plan(TrainParams p, TrainConfig train, ImageSet data, JsonNode? stored, TrainContext ctx)
    {
        var typed = (TParams)p;
        // On resume the stored model config is authoritative (e.g. normalisation measured on the data then).
        TConfig config = stored is not null
            ? stored.Deserialize<TConfig>(Json.Options) ?? BuildConfig(typed, data)
            : BuildConfig(typed, data);
        return Plan(typed, config, train, data, ctx);
    }

    public virtual string Describe(TrainResult result) =>
        string.Join("; ", result.FinalMetrics.Select(kv => $"{kv.Key} {kv.Value:G4}"));

    public abstract IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings);

    /// <summary>The model config stored in a checkpoint (validated by the caller).</summary>
    protected static TConfig ConfigOf(CheckpointInfo info, string file) =>
        Json.Deserialize<TConfig>(info.ConfigJson, $"the config in '{file}'");
}
