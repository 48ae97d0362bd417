// A kind of pipeline stage (docs/architecture.md "Stages"): its declared inputs, how its parameters
// are checked and reduced to the semantic part that keys its output folder, and how it runs. The
// runner (PipelineRunner) and the CLI's verbs run the same stage code.
using System.Text.Json.Nodes;
using Gen.Pipeline.Training;

namespace Gen.Pipeline.Stages;

/// <summary>An input a stage kind takes: a dataset, a file or folder, or another stage's output.</summary>
public sealed record StageInputDecl(string Name, bool Required, string Description);

/// <summary>Everything a stage run gets.</summary>
public sealed class StageRun
{
    public required string Name { get; init; }
    public required string OutputDir { get; init; }

    /// <summary>Input name → what it refers to: a dataset spec, or a path (another stage's output resolved).</summary>
    public required IReadOnlyDictionary<string, string> Inputs { get; init; }

    /// <summary>Input name → content hash (another stage's output: "stage:" + its key).</summary>
    public required IReadOnlyDictionary<string, string> InputHashes { get; init; }

    /// <summary>The stage's parameters as given (semantic and run options alike).</summary>
    public required JsonObject Params { get; init; }

    /// <summary>Continue an interrupted run in OutputDir rather than start it.</summary>
    public bool Resume { get; init; }

    public CancellationToken Cancel { get; init; }
    public IProgress<TrainProgress>? Progress { get; init; }
    public IProgress<string>? Log { get; init; }
}

/// <summary>How a stage ended: interrupted (Ctrl-C; a rerun resumes), its result record and one line for people.</summary>
public sealed record StageOutcome(bool Interrupted, JsonNode? Result, string Summary);

public interface IStageKind
{
    string Kind { get; }
    string Summary { get; }
    IReadOnlyList<StageInputDecl> Inputs { get; }

    /// <summary>
    /// Checks the parameters (unknown keys, types, values: one-line GenInputException naming
    /// <paramref name="where"/>) and returns their semantic part with defaults filled in: what enters
    /// the stage key. Run options (threads, cadence) are accepted but left out.
    /// </summary>
    JsonNode Resolve(JsonObject parameters, string where);

    /// <summary>The path other stages receive for "@name" (the folder itself, or a file or subfolder in it).</summary>
    string MainOutput(string outputDir) => outputDir;

    StageOutcome Run(StageRun run);
}
