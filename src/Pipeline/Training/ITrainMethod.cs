// The seam between the one training loop and a method (docs/architecture.md): a method
// supplies its model and a step that computes losses; the Trainer owns everything else.
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

/// <summary>One training batch: float images in [0,1] (B×C×H×W), int64 labels, and dataset indices.</summary>
public sealed record Batch(Tensor Images, Tensor Labels, int[] Indices);

/// <summary>EMA of the model part whose state_dict names start with Prefix, as a half-life in images
/// (0 = that part is copied, not averaged). Parts no rule names use the run's --ema half-life.</summary>
public sealed record EmaRule(string Prefix, double HalfLifeImages);

/// <summary>The loss to minimise plus scalar metrics to log (each a 0-d tensor).</summary>
public sealed record StepOutput(Tensor Loss, IReadOnlyDictionary<string, Tensor>? Metrics = null);

public sealed class StepContext
{
    public required long Step { get; init; }          // 0-based step being taken
    public required long TotalSteps { get; init; }
    public required double Lr { get; init; }
    public required long ImagesSeen { get; init; }    // before this step
    public required Generator Generator { get; init; } // this step's randomness, seeded from (seed, step)
}

public interface ITrainMethod : IDisposable
{
    /// <summary>Checkpoint kind written to metadata ("classifier", "edm", ...).</summary>
    string Kind { get; }

    /// <summary>The model's own configuration as JSON: enough to rebuild it from a checkpoint.</summary>
    string ConfigJson { get; }

    /// <summary>Everything that is saved and EMA-tracked.</summary>
    nn.Module Model { get; }

    /// <summary>Optimizer groups; the default is every trainable parameter in one group.</summary>
    IReadOnlyList<ParamGroupSpec> ParamGroups() =>
        [new ParamGroupSpec("all", Model.named_parameters().Where(p => p.parameter.requires_grad)
                                        .Select(p => (p.name, p.parameter)).ToList())];

    /// <summary>Forward pass and loss for one batch (the loop does backward and the update).</summary>
    StepOutput Step(Batch batch, StepContext ctx);

    /// <summary>Work after the optimizer update (momentum encoders, queues).</summary>
    void AfterStep(StepContext ctx) { }

    /// <summary>EMA half-lives per model part (empty: one half-life for the whole model, TrainConfig's).</summary>
    IReadOnlyList<EmaRule> EmaRules => [];

    /// <summary>Which model tensors a warm start (--init) copies; the rest keep their initial values
    /// (e.g. a training curriculum's state, which a new stage starts afresh). Default: all.</summary>
    bool WarmStarts(string tensorName) => true;

    /// <summary>Step metrics shown beside the loss in the progress line (window means; all are logged either way).</summary>
    IReadOnlyList<string> ProgressMetrics => [];

    /// <summary>Extra checkpoint metadata (e.g. normalisation constants).</summary>
    IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>();
}
