// The one training loop (docs/architecture.md; structure after NVlabs/edm training_loop.py and nanoGPT train.py).
// It owns: data order and per-step randomness from (seed, step), the LR schedule, the optimizer,
// backward, gradient clipping, EMA (one half-life, or one per model part), NaN/Inf stop, metrics.jsonl,
// plots, progress events, evaluation hooks, periodic and final checkpoints, warm start from another
// run's weights, Ctrl-C (checkpoint, then stop) and exact resume. Methods only supply a step; batches
// come from any IBatchSource (an ImageSet, paired batches, a feature matrix).
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

public sealed record TrainProgress(long Step, long TotalSteps, double Loss, double Lr, double ImagesPerSecond,
                                   TimeSpan Elapsed, TimeSpan Eta, int Epoch, string? Message = null)
{
    /// <summary>The log window's means of the metrics the method shows with its progress (ITrainMethod.ProgressMetrics).</summary>
    public IReadOnlyList<(string Name, double Value)> Shown { get; init; } = [];
}

public sealed record TrainResult(long Step, string RunDir, string LastCheckpoint, bool Interrupted,
                                 IReadOnlyDictionary<string, double> FinalMetrics, double ElapsedSeconds);

/// <summary>
/// An evaluation run with the sample-ready weights (EMA when enabled): every <paramref name="Every"/>
/// steps (0 = only at the end) and once at the end of an uninterrupted run. It gets the model and the
/// number of completed steps and returns named scalars for metrics.jsonl (empty when it only writes
/// files, like a sample grid). The final call's scalars are the run's final metrics.
/// </summary>
public sealed record TrainHook(string Name, long Every, Func<nn.Module, long, IReadOnlyDictionary<string, double>> Run);

public sealed class Trainer
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.jsonl";
    public const string LastFile = "last.safetensors";
    public const string StateFile = "state.safetensors";
    public const string SnapshotDir = "checkpoints";
    public const string PlotDir = "plots";

    private readonly ITrainMethod _method;
    private readonly IBatchSource _data;
    private readonly TrainConfig _c;
    private readonly RunOptions _run;
    private readonly string _dir;
    private readonly IProgress<TrainProgress>? _progress;
    private readonly IReadOnlyList<TrainHook> _hooks;
    private readonly JsonObject _runInfo;

    public Trainer(ITrainMethod method, IBatchSource data, TrainConfig config, RunOptions run, string runDir,
                   IProgress<TrainProgress>? progress = null, IReadOnlyList<TrainHook>? hooks = null, JsonObject? runInfo = null)
    {
        config.Validate();
        run.Validate();
        _method = method;
        _data = data;
        _c = config;
        _run = run;
        _dir = runDir;
        _progress = progress;
        _hooks = hooks ?? [];
        _runInfo = runInfo ?? new JsonObject();
    }

    public Trainer(ITrainMethod method, ImageSet data, TrainConfig config, RunOptions run, string runDir,
                   IProgress<TrainProgress>? progress = null, IReadOnlyList<TrainHook>? hooks = null, JsonObject? runInfo = null)
        : this(method, new ImageBatchSource(data), config, run, runDir, progress, hooks, runInfo) { }

    public static string LastPath(string runDir) => Path.Combine(runDir, LastFile);

    /// <summary>A checkpoint whose weights a new run starts from (e.g. the second stage of a two-stage
    /// recipe); its tensors must fit the model exactly. Ignored on resume (the resume state wins).</summary>
    public string? WarmStart { get; init; }

    public TrainResult Run(bool resume, CancellationToken cancel = default)
    {
        Denormals.Configure(_run.Threads);
        Directory.CreateDirectory(_dir);
        string statePath = Path.Combine(_dir, StateFile);
        var log = new MetricsLog(Path.Combine(_dir, MetricsFile));
        long total = _c.TotalSteps(_data.Count);
        var order = new BatchOrder(_c.Seed, _data.Count, _c.Batch);
        nn.Module model = _method.Model;

        using var optimizer = new Optimizer(_c, _method.ParamGroups());
        IReadOnlyList<EmaRule> emaRules = _method.EmaRules;
        using Ema? ema = _c.EmaHalfLifeImages > 0 || emaRules.Count > 0 ? new Ema(model) : null;
        long start = 0;
        double elapsedBefore = 0;
        var window = new LogWindow();
        CheckFolder(_dir, resume);
        if (resume)
        {
            CheckResumable();
            (start, elapsedBefore) = LoadState(statePath, model, optimizer, ema, window);
            log.TruncateAfter(start);
            _progress?.Report(new TrainProgress(start, total, double.NaN, 0, 0, TimeSpan.FromSeconds(elapsedBefore), TimeSpan.Zero,
                                                order.EpochOf(start), $"resumed from step {start}"));
        }
        else
        {
            if (File.Exists(log.Path)) File.Delete(log.Path);
            if (WarmStart is not null) LoadWarmStart(model, ema);
            WriteConfig(total);
        }
        if (start >= total)
            throw new GenInputException($"the run in '{_dir}' already finished {start} of {total} steps; pass a larger --steps to train further");

        var clock = Stopwatch.StartNew();
        var speedClock = Stopwatch.StartNew();
        long windowImages = 0;
        long imagesSeen = start * _c.Batch;
        double lastLr = 0;
        bool interrupted = false;
        long step = start;

        for (; step < total; step++)
        {
            if (cancel.IsCancellationRequested) { interrupted = true; break; }
            using (NativeCallGuard.Enter())
            using (var scope = NewDisposeScope())
            {
                Batch batch = _data.Get(order.Indices(step));
                using var generator = new Generator(SplitMix.Mix(_c.Seed, step));
                double lr = LrSchedule.At(_c, step, total);
                lastLr = lr;
                var ctx = new StepContext { Step = step, TotalSteps = total, Lr = lr, ImagesSeen = imagesSeen, Generator = generator };
                model.train();
                StepOutput output = _method.Step(batch, ctx);
                double loss = output.Loss.item<float>();
                if (!double.IsFinite(loss)) throw Diverged("loss", loss, step, lr, model);
                optimizer.ZeroGrad();
                output.Loss.backward();
                if (_c.ClipGradNorm > 0)
                {
                    double norm = nn.utils.clip_grad_norm_(optimizer.Parameters, _c.ClipGradNorm);
                    if (!double.IsFinite(norm)) throw Diverged("gradient norm", norm, step, lr, model);
                }
                optimizer.Step(lr);
                imagesSeen += _c.Batch;
                ema?.Update(model, EmaBetas(emaRules, imagesSeen));
                _method.AfterStep(ctx);
                window.LossSum += loss;
                window.Count++;
                if (output.Metrics is not null)
                    foreach (var (k, v) in output.Metrics)
                        window.Sums[k] = window.Sums.GetValueOrDefault(k) + v.item<float>();
            }
            windowImages += _c.Batch;
            long done = step + 1;
            double elapsed = elapsedBefore + clock.Elapsed.TotalSeconds;
            double ips = windowImages / Math.Max(speedClock.Elapsed.TotalSeconds, 1e-9);
            double rate = (done - start) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            _progress?.Report(new TrainProgress(done, total, window.LossSum / Math.Max(window.Count, 1), lastLr, ips,
                TimeSpan.FromSeconds(elapsed), TimeSpan.FromSeconds((total - done) / Math.Max(rate, 1e-9)), order.EpochOf(step))
            {
                Shown = _method.ProgressMetrics.Where(window.Sums.ContainsKey).Select(k => (k, window.Sums[k] / Math.Max(window.Count, 1))).ToList(),
            });

            if (done % _run.LogEvery == 0 || done == total)
            {
                var row = new Dictionary<string, double>
                {
                    ["step"] = done,
                    ["epoch"] = (double)done * _c.Batch / _data.Count,
                    ["loss"] = window.LossSum / window.Count,
                    ["lr"] = lastLr,
                    ["images_per_s"] = ips,
                    ["elapsed_s"] = elapsed,
                    ["rss_mb"] = Environment.WorkingSet / 1048576.0,
                };
                // glibc's heap in use vs RSS tells a leak (in use grows) from fragmentation (docs/platform.md §7).
                if (MallocTuning.Heap() is { } heap) row["heap_in_use_mb"] = heap.InUse;
                // The process's total GC pause: a jump marks a real collection, which is when native memory
                // held by unreachable managed objects is finalised (docs/platform.md §7). The collection
                // count is no guide: every step's no-GC region counts one, mostly without work.
                row["gc_pause_s"] = GC.GetTotalPauseDuration().TotalSeconds;
                foreach (var (k, v) in window.Sums) row[k] = v / window.Count;
                log.Append(row);
                window = new LogWindow();
                speedClock.Restart(); windowImages = 0;
            }
            FaultPoints.Hit(FaultPoints.Step);
            if (done != total)
            {
                var due = _hooks.Where(h => h.Every > 0 && done % h.Every == 0).ToList();
                if (due.Count > 0 && RunHooks(due, model, ema, done) is { Count: > 1 } row) log.Append(row);
            }
            if (_run.CheckpointEvery > 0 && done % _run.CheckpointEvery == 0 && done != total)
                SaveCheckpoint(done, model, optimizer, ema, window, elapsedBefore + clock.Elapsed.TotalSeconds, snapshot: true);
        }

        var final = new Dictionary<string, double>();
        if (!interrupted && _hooks.Count > 0)
        {
            var row = RunHooks(_hooks, model, ema, step);
            if (row.Count > 1) log.Append(row);
            foreach (var (k, v) in row) if (k != "step") final[k] = v;
        }
        double totalElapsed = elapsedBefore + clock.Elapsed.TotalSeconds;
        SaveCheckpoint(step, model, optimizer, ema, window, totalElapsed, snapshot: !interrupted);
        try { Plots.FromMetricsLog(log.Path, Path.Combine(_dir, PlotDir)); }
        catch (Exception e) when (e is not GenInputException)
        {
            _progress?.Report(new TrainProgress(step, total, double.NaN, 0, 0, TimeSpan.Zero, TimeSpan.Zero, 0, $"plots skipped: {e.Message}"));
        }
        return new TrainResult(step, _dir, LastPath(_dir), interrupted, final, totalElapsed);
    }

    /// <summary>The existing-run rules: a new run needs a folder without a run, a resume needs resume state.</summary>
    public static void CheckFolder(string runDir, bool resume)
    {
        bool hasState = File.Exists(Path.Combine(runDir, StateFile));
        if (!resume && (hasState || File.Exists(LastPath(runDir))))
            throw new GenInputException($"'{runDir}' already holds a run; pass --resume to continue it, or choose another --out");
        if (resume && !hasState)
            throw new GenInputException($"nothing to resume in '{runDir}': it holds no {StateFile}; run without --resume to start a new run");
    }

    private GenInputException Diverged(string what, double value, long step, double lr, nn.Module model)
    {
        string? bad = model.named_parameters().Where(p => !p.parameter.isfinite().all().item<bool>()).Select(p => p.name).FirstOrDefault();
        string where = bad is null ? "" : $" (weights already non-finite, first: {bad})";
        return new($"training diverged: the {what} became {value} at step {step + 1}{where}; lower --lr (it was {lr:G4}) or set --clip 1.0; the last checkpoint in '{_dir}' is intact and --resume continues from it");
    }

    private static Dictionary<string, double> RunHooks(IEnumerable<TrainHook> hooks, nn.Module model, Ema? ema, long step)
    {
        var row = new Dictionary<string, double> { ["step"] = step };
        WithEvalWeights(model, ema, m =>
        {
            foreach (var hook in hooks)
                foreach (var (k, v) in hook.Run(m, step)) row[k] = v;
        });
        return row;
    }

    /// <summary>The EMA decay of each tensor this step: the run's half-life, or the rule of the longest
    /// matching name prefix (a rule with half-life 0 copies its part unaveraged).</summary>
    private Func<string, double> EmaBetas(IReadOnlyList<EmaRule> rules, long imagesSeen)
    {
        double Beta(double halfLife) => halfLife > 0 ? Ema.Beta(_c.Batch, halfLife, _c.EmaRampup, imagesSeen) : 0;
        double baseBeta = Beta(_c.EmaHalfLifeImages);
        if (rules.Count == 0) return _ => baseBeta;
        var betas = rules.OrderByDescending(r => r.Prefix.Length).Select(r => (r.Prefix, Beta: Beta(r.HalfLifeImages))).ToList();
        return name =>
        {
            foreach (var (prefix, beta) in betas)
                if (name.StartsWith(prefix, StringComparison.Ordinal)) return beta;
            return baseBeta;
        };
    }

    private void LoadWarmStart(nn.Module model, Ema? ema)
    {
        var (file, info) = Checkpoint.Open(WarmStart!);
        Checkpoint.LoadInto(model, file, include: _method.WarmStarts);
        ema?.Reset(model);
        _runInfo["warm_start"] = new JsonObject { ["checkpoint"] = file.Path, ["kind"] = info.Kind, ["step"] = info.Step };
    }

    /// <summary>Runs <paramref name="action"/> with the EMA weights swapped in (when EMA is on), then restores the raw weights.</summary>
    private static void WithEvalWeights(nn.Module model, Ema? ema, Action<nn.Module> action)
    {
        model.eval();
        if (ema is null) { action(model); return; }
        var saved = new Dictionary<string, Tensor>();
        try
        {
            // Hooks run between steps, outside the step's dispose scope: the detach() views get one here.
            using (no_grad())
            using (NewDisposeScope())
                foreach (var (name, t) in model.state_dict())
                {
                    Tensor c = t.detach().clone();
                    c.DetachFromDisposeScope();
                    saved[name] = c;
                }
            ema.CopyTo(model);
            action(model);
        }
        finally
        {
            using (no_grad())
                foreach (var (name, t) in model.state_dict())
                    if (saved.TryGetValue(name, out Tensor? s)) t.copy_(s);
            foreach (var t in saved.Values) t.Dispose();
        }
    }

    private void SaveCheckpoint(long step, nn.Module model, Optimizer optimizer, Ema? ema, LogWindow window, double elapsed, bool snapshot)
    {
        IReadOnlyDictionary<string, Tensor> evalWeights = ema?.State ?? model.state_dict();
        var meta = new Dictionary<string, string>(_method.Metadata) { ["gen.ema"] = ema is null ? "off" : "on" };
        if (snapshot)
            Checkpoint.Save(Path.Combine(_dir, SnapshotDir, $"step-{step:D8}.safetensors"), evalWeights, _method.Kind, _method.ConfigJson, step, meta);
        Checkpoint.Save(LastPath(_dir), evalWeights, _method.Kind, _method.ConfigJson, step, meta);

        var state = new List<KeyValuePair<string, Tensor>>();
        state.AddRange(model.state_dict().Select(kv => new KeyValuePair<string, Tensor>("model/" + kv.Key, kv.Value)));
        state.AddRange(optimizer.State.Select(kv => new KeyValuePair<string, Tensor>("optim/" + kv.Key, kv.Value)));
        if (ema is not null) state.AddRange(ema.State.Select(kv => new KeyValuePair<string, Tensor>("ema/" + kv.Key, kv.Value)));
        var trainState = new JsonObject
        {
            ["step"] = step,
            ["optimizer_steps"] = optimizer.StepCount,
            ["seed"] = _c.Seed,
            ["elapsed_s"] = elapsed,
            ["log_window"] = window.ToJson(),
        };
        Checkpoint.Save(Path.Combine(_dir, StateFile), state, _method.Kind, _method.ConfigJson, step,
                        new Dictionary<string, string> { ["gen.train_state"] = trainState.ToJsonString() });
    }

    private (long Step, double Elapsed) LoadState(string path, nn.Module model, Optimizer optimizer, Ema? ema, LogWindow window)
    {
        var (file, info) = Checkpoint.Open(path, _method.Kind);
        if (!JsonNode.DeepEquals(JsonNode.Parse(info.ConfigJson), JsonNode.Parse(_method.ConfigJson)))
            throw new GenInputException($"'{path}' was written by a model with another configuration; resume with the same model options, or start a new --out");
        Checkpoint.LoadInto(model, file, "model/");
        var opt = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var emaState = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var (name, st) in file.Tensors)
            {
                if (name.StartsWith("optim/", StringComparison.Ordinal)) opt[name[6..]] = TensorBytes.FromSt(st);
                else if (name.StartsWith("ema/", StringComparison.Ordinal)) emaState[name[4..]] = TensorBytes.FromSt(st);
            }
            if (!file.Metadata.TryGetValue("gen.train_state", out string? ts))
                throw new GenInputException($"'{path}' lacks its training state metadata; it is not a resume file written by gen");
            var state = JsonNode.Parse(ts)!;
            long step = state["step"]!.GetValue<long>();
            optimizer.LoadState(opt, state["optimizer_steps"]!.GetValue<long>());
            if (ema is not null)
            {
                if (emaState.Count == 0) throw new GenInputException($"'{path}' holds no EMA weights but this run uses EMA; resume with the same --ema setting");
                ema.Load(emaState);
            }
            if (state["log_window"] is JsonObject w) window.Load(w);
            return (step, state["elapsed_s"]?.GetValue<double>() ?? 0);
        }
        finally
        {
            foreach (var t in opt.Values) t.Dispose();
            foreach (var t in emaState.Values) t.Dispose();
        }
    }

    private void CheckResumable()
    {
        string cfgPath = Path.Combine(_dir, ConfigFile);
        if (!File.Exists(cfgPath)) return;
        var saved = JsonNode.Parse(File.ReadAllText(cfgPath));
        string? kind = saved?["kind"]?.GetValue<string>();
        if (kind is not null && kind != _method.Kind)
            throw new GenInputException($"'{_dir}' holds a '{kind}' run, not '{_method.Kind}'; resume it with the matching command");
    }

    private void WriteConfig(long total)
    {
        var cfg = new JsonObject
        {
            ["kind"] = _method.Kind,
            ["gen_version"] = GenPaths.Version,
            ["total_steps"] = total,
            ["model"] = JsonNode.Parse(_method.ConfigJson),
            ["train"] = JsonSerializer.SerializeToNode(_c, Json.Options),
            ["run"] = JsonSerializer.SerializeToNode(_run, Json.Options),
            ["data"] = _data.Describe(),
        };
        foreach (var (k, v) in _runInfo) cfg[k] = v?.DeepClone();
        AtomicFile.WriteAllText(Path.Combine(_dir, ConfigFile), cfg.ToJsonString(Json.Options));
    }

    /// <summary>
    /// Sums over the steps since the last metrics.jsonl line. Saved with the resume state, so a run
    /// resumed between two log lines writes the same next line as an uninterrupted run.
    /// </summary>
    private sealed class LogWindow
    {
        public double LossSum;
        public int Count;
        public Dictionary<string, double> Sums { get; } = new(StringComparer.Ordinal);

        public JsonObject ToJson()
        {
            var sums = new JsonObject();
            foreach (var (k, v) in Sums) sums[k] = v;
            return new JsonObject { ["loss_sum"] = LossSum, ["count"] = Count, ["sums"] = sums };
        }

        public void Load(JsonObject o)
        {
            LossSum = o["loss_sum"]?.GetValue<double>() ?? 0;
            Count = o["count"]?.GetValue<int>() ?? 0;
            Sums.Clear();
            if (o["sums"] is JsonObject sums)
                foreach (var (k, v) in sums) Sums[k] = v!.GetValue<double>();
        }
    }
}
