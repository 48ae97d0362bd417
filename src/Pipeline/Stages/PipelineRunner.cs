// The pipeline runner (docs/architecture.md "The runner"): a JSON file names stages, their kind,
// parameters and inputs (a dataset, a file or folder, or another stage's output as "@name"). Every
// stage's output folder is OUT/<name>-<key>, the key being the hash of (kind, semantic parameters,
// input content hashes; another stage's output counts by that stage's key), so a rerun skips complete
// stages, resumes an interrupted one, and a changed parameter reruns that stage and what depends on it.
// The whole file is checked before anything runs; every fault is one line naming the stage and the fix.
// Each run appends one line per stage to OUT/runs.jsonl (what it did: cached, run, resume).
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;

namespace Gen.Pipeline.Stages;

public enum StageAction { Cached, Run, Resume }

public sealed record StageDef(string Name, string Kind, JsonObject Params, IReadOnlyDictionary<string, string> Inputs);

public sealed record PlannedStage(StageDef Def, IStageKind Kind, string Key, string Folder, StageAction Action,
                                  IReadOnlyDictionary<string, string> Inputs, IReadOnlyDictionary<string, string> InputHashes);

public sealed record StageReport(string Name, string Kind, string Key, StageAction Action, StageStatus Status, string Summary, double Seconds);

public sealed record PipelineResult(IReadOnlyList<StageReport> Stages, bool Interrupted);

/// <summary>Events for the CLI: a stage starts (i of n), a stage ends.</summary>
public sealed record PipelineEvent(int Index, int Count, PlannedStage Stage, StageReport? Done = null);

public sealed partial class PipelineRunner(MethodRegistry registry)
{
    public const string RunLog = "runs.jsonl";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NamePattern();

    /// <summary>Reads and checks a pipeline file (JSON, known kinds and parameters, inputs, no cycles); returns stages in run order.</summary>
    public IReadOnlyList<StageDef> Load(string path)
    {
        if (!File.Exists(path)) throw new GenInputException($"pipeline file '{path}' does not exist; check the path");
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new GenInputException($"pipeline file '{path}' is not valid JSON ({e.Message}); fix the syntax"); }
        if (root is not JsonObject obj || obj["stages"] is not JsonArray stages || stages.Count == 0)
            throw new GenInputException($"pipeline file '{path}' needs a \"stages\" array of stage objects ({{\"name\", \"kind\", \"params\", \"inputs\"}})");
        var defs = new List<StageDef>();
        foreach (var node in stages)
        {
            if (node is not JsonObject s) throw new GenInputException($"pipeline file '{path}': every entry of \"stages\" must be an object");
            string name = s["name"]?.GetValue<string>() ?? throw new GenInputException($"pipeline file '{path}': a stage has no \"name\"; give each stage a unique name");
            if (!NamePattern().IsMatch(name)) throw new GenInputException($"stage '{name}': names take letters, digits, '-', '_' and '.'; rename it");
            foreach (var (k, _) in s)
                if (k is not ("name" or "kind" or "params" or "inputs" or "description"))
                    throw new GenInputException($"stage '{name}': unknown field '{k}'; a stage has name, kind, params, inputs and description");
            string kind = s["kind"]?.GetValue<string>() ?? throw new GenInputException($"stage '{name}' has no \"kind\"; kinds: {Kinds()}");
            var parameters = s["params"] is null ? new JsonObject() : s["params"] as JsonObject
                ?? throw new GenInputException($"stage '{name}': \"params\" must be an object");
            var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
            if (s["inputs"] is JsonObject ins)
                foreach (var (k, v) in ins)
                    inputs[k] = v is JsonValue jv && jv.TryGetValue(out string? text) ? text
                        : throw new GenInputException($"stage '{name}': input '{k}' must be a string (a dataset, a path or \"@stage\")");
            else if (s["inputs"] is not null) throw new GenInputException($"stage '{name}': \"inputs\" must be an object");
            if (defs.Any(d => d.Name == name))
                throw new GenInputException($"two stages are named '{name}' and would write one folder; give each stage its own name");
            defs.Add(new StageDef(name, kind, (JsonObject)parameters.DeepClone(), inputs));
        }
        foreach (var d in defs) Check(d, defs);
        return Order(defs);
    }

    private string Kinds() => string.Join(", ", registry.Stages.Select(k => k.Kind));

    private void Check(StageDef d, IReadOnlyList<StageDef> all)
    {
        IStageKind kind = registry.Stage(d.Kind) ?? throw new GenInputException($"stage '{d.Name}': unknown kind '{d.Kind}'; kinds: {Kinds()}");
        foreach (var (input, target) in d.Inputs)
        {
            if (kind.Inputs.All(i => i.Name != input))
                throw new GenInputException($"stage '{d.Name}': kind '{d.Kind}' takes no input '{input}'; its inputs: {string.Join(", ", kind.Inputs.Select(i => i.Name))}");
            if (target.StartsWith('@') && all.All(s => s.Name != target[1..]))
                throw new GenInputException($"stage '{d.Name}': input '{input}' refers to stage '{target[1..]}', which this pipeline does not have; name an existing stage");
        }
        foreach (var required in kind.Inputs.Where(i => i.Required))
            if (!d.Inputs.ContainsKey(required.Name))
                throw new GenInputException($"stage '{d.Name}': kind '{d.Kind}' needs the input '{required.Name}' ({required.Description}); add it under \"inputs\"");
        kind.Resolve(d.Params, $"stage '{d.Name}'");
    }

    /// <summary>Dependencies first (file order otherwise); a cycle is an error naming it.</summary>
    private static List<StageDef> Order(List<StageDef> defs)
    {
        var byName = defs.ToDictionary(d => d.Name);
        var done = new HashSet<string>();
        var visiting = new List<string>();
        var order = new List<StageDef>();
        void Visit(StageDef d)
        {
            if (done.Contains(d.Name)) return;
            int at = visiting.IndexOf(d.Name);
            if (at >= 0)
                throw new GenInputException($"stages {string.Join(" → ", visiting.Skip(at).Append(d.Name))} form a cycle; a stage cannot depend on its own output");
            visiting.Add(d.Name);
            foreach (var target in d.Inputs.Values.Where(t => t.StartsWith('@'))) Visit(byName[target[1..]]);
            visiting.RemoveAt(visiting.Count - 1);
            done.Add(d.Name);
            order.Add(d);
        }
        foreach (var d in defs) Visit(d);
        return order;
    }

    /// <summary>Keys, folders and what each stage would do (nothing runs; inputs are hashed).</summary>
    public IReadOnlyList<PlannedStage> Plan(IReadOnlyList<StageDef> defs, string outDir, string? from = null)
    {
        if (from is not null && defs.All(d => d.Name != from))
            throw new GenInputException($"--from '{from}' is not a stage of this pipeline; stages: {string.Join(", ", defs.Select(d => d.Name))}");
        var planned = new Dictionary<string, PlannedStage>(StringComparer.Ordinal);
        var forced = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<PlannedStage>();
        foreach (var d in defs)
        {
            IStageKind kind = registry.Stage(d.Kind)!;
            var inputs = new Dictionary<string, string>(d.Inputs, StringComparer.Ordinal);
            if (kind is TrainStage train && !inputs.ContainsKey(TrainStage.DataInput))
                inputs[TrainStage.DataInput] = d.Params["data"]?.GetValue<string>() ?? train.Method.DefaultParams().Data;
            var paths = new Dictionary<string, string>(StringComparer.Ordinal);
            var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (name, target) in inputs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                if (target.StartsWith('@'))
                {
                    PlannedStage up = planned[target[1..]];
                    paths[name] = up.Kind.MainOutput(up.Folder);
                    hashes[name] = "stage:" + up.Key;
                    if (forced.Contains(up.Def.Name)) forced.Add(d.Name);
                }
                else
                {
                    paths[name] = target;
                    hashes[name] = HashInput(d, name, target);
                }
            }
            if (d.Name == from) forced.Add(d.Name);
            JsonNode semantic = kind.Resolve(d.Params, $"stage '{d.Name}'");
            string key = StageKey.Compute(d.Kind, semantic, hashes.Select(kv => new StageInput(kv.Key, inputs[kv.Key], kv.Value)));
            string folder = Path.Combine(outDir, $"{d.Name}-{key[..16]}");
            StageManifest? m = File.Exists(Path.Combine(folder, StageManifest.FileName)) ? StageManifest.Read(folder) : null;
            StageAction action = forced.Contains(d.Name) ? StageAction.Run
                : m is null ? StageAction.Run
                : m.Status == StageStatus.Complete ? StageAction.Cached
                : StageAction.Resume;
            var p = new PlannedStage(d, kind, key, folder, action, paths, hashes);
            planned[d.Name] = p;
            result.Add(p);
        }
        return result;
    }

    private static string HashInput(StageDef d, string input, string target)
    {
        try
        {
            return ContentHash.OfData(target, Data.Split.Train);   // a missing path or dataset is a one-line error here
        }
        catch (GenInputException e)
        {
            throw new GenInputException($"stage '{d.Name}': input '{input}': {e.Message}", e);
        }
    }

    /// <summary>Runs the plan: cached stages are skipped, others run (interrupted ones resume). Stops at Ctrl-C.</summary>
    public PipelineResult Run(IReadOnlyList<PlannedStage> plan, string outDir, Func<PlannedStage, IProgress<TrainProgress>?>? progressFor = null,
                              IProgress<PipelineEvent>? events = null, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(outDir);
        var reports = new List<StageReport>();
        for (int i = 0; i < plan.Count; i++)
        {
            PlannedStage s = plan[i];
            events?.Report(new PipelineEvent(i + 1, plan.Count, s));
            var clock = Stopwatch.StartNew();
            StageReport report;
            if (s.Action == StageAction.Cached)
                report = new StageReport(s.Def.Name, s.Def.Kind, s.Key, s.Action, StageStatus.Complete, "cached", 0);
            else
            {
                if (cancel.IsCancellationRequested) return new PipelineResult(reports, true);
                report = RunStage(s, progressFor?.Invoke(s), log, cancel) with { Seconds = clock.Elapsed.TotalSeconds };
            }
            reports.Add(report);
            AppendLog(outDir, report);
            events?.Report(new PipelineEvent(i + 1, plan.Count, s, report));
            if (report.Status == StageStatus.Interrupted) return new PipelineResult(reports, true);
        }
        return new PipelineResult(reports, false);
    }

    private static StageReport RunStage(PlannedStage s, IProgress<TrainProgress>? progress, IProgress<string>? log, CancellationToken cancel)
    {
        bool isTrain = s.Kind is TrainStage;
        bool resume = s.Action == StageAction.Resume && isTrain && File.Exists(Path.Combine(s.Folder, Trainer.StateFile));
        if (s.Action == StageAction.Run && Directory.Exists(s.Folder)) Directory.Delete(s.Folder, recursive: true);
        // Killed between writing last.safetensors and the resume state: no state to resume, so the run
        // starts over, and the Trainer refuses a fresh start over a last.safetensors.
        if (s.Action == StageAction.Resume && !resume && isTrain) File.Delete(Trainer.LastPath(s.Folder));
        Directory.CreateDirectory(s.Folder);
        var run = new StageRun
        {
            Name = s.Def.Name,
            OutputDir = s.Folder,
            Inputs = s.Inputs,
            InputHashes = s.InputHashes,
            Params = s.Def.Params,
            Resume = resume,
            Cancel = cancel,
            Progress = progress,
            Log = log,
        };
        try
        {
            StageOutcome outcome;
            if (isTrain) outcome = s.Kind.Run(run);   // the train stage writes its own manifest (with the resume state)
            else
            {
                var manifest = new StageManifest
                {
                    Kind = s.Def.Kind,
                    Params = s.Kind.Resolve(s.Def.Params, $"stage '{s.Def.Name}'"),
                    Inputs = s.InputHashes.Select(kv => new StageInput(kv.Key, s.Inputs[kv.Key], kv.Value)).ToList(),
                    Outputs = [Path.GetRelativePath(s.Folder, s.Kind.MainOutput(s.Folder))],
                };
                outcome = manifest.Run(s.Folder, () => s.Kind.Run(run), o => (o.Interrupted, o.Result));
            }
            return new StageReport(s.Def.Name, s.Def.Kind, s.Key, s.Action, outcome.Interrupted ? StageStatus.Interrupted : StageStatus.Complete, outcome.Summary, 0);
        }
        catch (OperationCanceledException)
        {
            StageManifest.Read(s.Folder)?.With(StageStatus.Interrupted).Write(s.Folder);
            return new StageReport(s.Def.Name, s.Def.Kind, s.Key, s.Action, StageStatus.Interrupted, "interrupted", 0);
        }
        catch (GenInputException e) when (!e.Message.StartsWith("stage '", StringComparison.Ordinal))
        {
            throw new GenInputException($"stage '{s.Def.Name}': {e.Message}", e);
        }
    }

    private static void AppendLog(string outDir, StageReport r)
    {
        var line = new JsonObject
        {
            ["time"] = DateTimeOffset.UtcNow.ToString("o"),
            ["stage"] = r.Name,
            ["kind"] = r.Kind,
            ["key"] = r.Key,
            ["action"] = r.Action.ToString().ToLowerInvariant(),
            ["status"] = r.Status.ToString().ToLowerInvariant(),
            ["seconds"] = r.Seconds,
            ["summary"] = r.Summary,
        };
        File.AppendAllText(Path.Combine(outDir, RunLog), line.ToJsonString() + "\n");
    }

}
