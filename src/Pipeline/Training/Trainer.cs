// The one training loop (STYLE.md; structure after NVlabs/edm training_loop.py and nanoGPT train.py).
// It owns: data order and per-step randomness from (seed, step), the LR schedule, the optimizer,
// backward, gradient clipping, EMA, NaN/Inf stop, metrics.jsonl, plots, progress events, periodic
// and final checkpoints, Ctrl-C (checkpoint, then stop) and exact resume. Methods only supply a step.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

namespace Gen.Pipeline.Training;

public sealed record TrainProgress(long Step, long TotalSteps, double Loss, double Lr, double ImagesPerSecond,
                                   TimeSpan Elapsed, TimeSpan Eta, int Epoch, string? Message = null);

public sealed record TrainResult(long Step, string RunDir, string LastCheckpoint, bool Interrupted,
                                 IReadOnlyDictionary<string, double> FinalMetrics, double ElapsedSeconds);

/// <summary>Evaluates the sample-ready (EMA when enabled) model; returns named scalars for metrics.jsonl.</summary>
public delegate IReadOnlyDictionary<string, double> Evaluator(nn.Module model);

public sealed class Trainer
{
    public const string ConfigFile = "config.json";
    public const string MetricsFile = "metrics.jsonl";
    public const string LastFile = "last.safetensors";
    public const string StateFile = "state.safetensors";
    public const string SnapshotDir = "checkpoints";
    public const string PlotDir = "plots";

    private readonly ITrainMethod _method;
    private readonly ImageSet _data;
    private readonly TrainConfig _c;
    private readonly string _dir;
    private readonly IProgress<TrainProgress>? _progress;
    private readonly Evaluator? _evaluate;
    private readonly JsonObject _runInfo;

    public Trainer(ITrainMethod method, ImageSet data, TrainConfig config, string runDir,
                   IProgress<TrainProgress>? progress = null, Evaluator? evaluate = null, JsonObject? runInfo = null)
    {
        config.Validate();
        _method = method;
        _data = data;
        _c = config;
        _dir = runDir;
        _progress = progress;
        _evaluate = evaluate;
        _runInfo = runInfo ?? new JsonObject();
    }

    public static string LastPath(string runDir) => Path.Combine(runDir, LastFile);

    /// <summary>
    /// Optional periodic hook run with the sample-ready (EMA when enabled) weights, e.g. a generator's
    /// sample grid: called every <see cref="SampleEvery"/> steps and once at the end of an
    /// uninterrupted run, with the number of completed steps. Added for issue 5 (diffusion).
    /// </summary>
    public Action<nn.Module, long>? OnSample { get; init; }

    /// <summary>Steps between <see cref="OnSample"/> calls (0 = only at the end).</summary>
    public long SampleEvery { get; init; }

    public TrainResult Run(bool resume, CancellationToken cancel = default)
    {
        Denormals.Configure(_c.Threads);
        Directory.CreateDirectory(_dir);
        string statePath = Path.Combine(_dir, StateFile);
        var log = new MetricsLog(Path.Combine(_dir, MetricsFile));
        long total = _c.TotalSteps(_data.Count);
        var order = new BatchOrder(_c.Seed, _data.Count, _c.Batch);
        nn.Module model = _method.Model;

        using var optimizer = new Optimizer(_c, _method.ParamGroups());
        using Ema? ema = _c.EmaHalfLifeImages > 0 ? new Ema(model) : null;
        long start = 0;
        double elapsedBefore = 0;
        var window = new LogWindow();
        if (resume)
        {
            if (!File.Exists(statePath))
                throw new GenInputException($"nothing to resume in '{_dir}': it holds no {StateFile}; run without --resume to start a new run");
            CheckResumable();
            (start, elapsedBefore) = LoadState(statePath, model, optimizer, ema, window);
            log.TruncateAfter(start);
            _progress?.Report(new TrainProgress(start, total, double.NaN, 0, 0, TimeSpan.FromSeconds(elapsedBefore), TimeSpan.Zero,
                                                order.EpochOf(start), $"resumed from step {start}"));
        }
        else
        {
            if (File.Exists(statePath) || File.Exists(Path.Combine(_dir, LastFile)))
                throw new GenInputException($"'{_dir}' already holds a run; pass --resume to continue it, or choose another --out");
            if (File.Exists(log.Path)) File.Delete(log.Path);
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
                int[] indices = order.Indices(step);
                var batch = new Batch(Batches.Float(_data, indices), Batches.Labels(_data, indices), indices);
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
                ema?.Update(model, Ema.Beta(_c.Batch, _c.EmaHalfLifeImages, _c.EmaRampup, imagesSeen));
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
                TimeSpan.FromSeconds(elapsed), TimeSpan.FromSeconds((total - done) / Math.Max(rate, 1e-9)), order.EpochOf(step)));

            if (done % _c.LogEvery == 0 || done == total)
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
                foreach (var (k, v) in window.Sums) row[k] = v / window.Count;
                log.Append(row);
                window = new LogWindow();
                speedClock.Restart(); windowImages = 0;
            }
            if (OnSample is not null && SampleEvery > 0 && done % SampleEvery == 0 && done != total)
                WithEvalWeights(model, ema, m => OnSample(m, done));
            if (_evaluate is not null && _c.EvalEvery > 0 && done % _c.EvalEvery == 0 && done != total)
                log.Append(Evaluate(model, ema, done));
            if (_c.CheckpointEvery > 0 && done % _c.CheckpointEvery == 0 && done != total)
                SaveCheckpoint(done, model, optimizer, ema, window, elapsedBefore + clock.Elapsed.TotalSeconds, snapshot: true);
        }

        var final = new Dictionary<string, double>();
        if (!interrupted && OnSample is not null) WithEvalWeights(model, ema, m => OnSample(m, step));
        if (!interrupted && _evaluate is not null)
        {
            var row = Evaluate(model, ema, step);
            log.Append(row);
            foreach (var (k, v) in row) final[k] = v;
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

    private GenInputException Diverged(string what, double value, long step, double lr, nn.Module model)
    {
        string? bad = model.named_parameters().Where(p => !p.parameter.isfinite().all().item<bool>()).Select(p => p.name).FirstOrDefault();
        string where = bad is null ? "" : $" (weights already non-finite, first: {bad})";
        return new($"training diverged: the {what} became {value} at step {step + 1}{where}; lower --lr (it was {lr:G4}) or set --clip 1.0; the last checkpoint in '{_dir}' is intact and --resume continues from it");
    }

    private Dictionary<string, double> Evaluate(nn.Module model, Ema? ema, long step)
    {
        var row = new Dictionary<string, double> { ["step"] = step };
        WithEvalWeights(model, ema, m =>
        {
            foreach (var (k, v) in _evaluate!(m)) row[k] = v;
        });
        return row;
    }

    /// <summary>Runs <paramref name="action"/> with the EMA weights swapped in (when EMA is on), then restores the raw weights.</summary>
    private static void WithEvalWeights(nn.Module model, Ema? ema, Action<nn.Module> action)
    {
        model.eval();
        if (ema is null) { action(model); return; }
        var saved = new Dictionary<string, Tensor>();
        try
        {
            using (no_grad())
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
            ["data"] = new JsonObject
            {
                ["name"] = _data.Name,
                ["source"] = _data.Source,
                ["count"] = _data.Count,
                ["shape"] = new JsonArray(_data.Channels, _data.Height, _data.Width),
            },
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
