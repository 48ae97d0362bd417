// gen fid | stats | is | kid | fid-curve | weights fetch inception | metrics train-extractor.
// Options are declared and parsed here; the work happens in Gen.Metrics (MetricJobs, FidCurve, InceptionWeights,
// FmnistExtractorTraining). Inputs A and B may be image folders, dataset names (fashion-mnist:test), .npz
// statistics or generator checkpoints (sampled with --n images from --seed on).
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Gen.Metrics;
using Gen.Metrics.Features;
using Gen.Metrics.Fmnist;
using Gen.Metrics.Inception;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;

namespace Gen.Cli.Commands;

public static class MetricsCommands
{
    /// <summary>Adds every metrics command to the root (one registration line in GenCli.Build).</summary>
    public static void AddTo(RootCommand root, Func<CliContext> cli)
    {
        root.Subcommands.Add(Fid(cli));
        root.Subcommands.Add(Stats(cli));
        root.Subcommands.Add(Is(cli));
        root.Subcommands.Add(Kid(cli));
        root.Subcommands.Add(EvalGenCommand(cli));
        root.Subcommands.Add(Curve(cli));
        root.Subcommands.Add(Weights(cli));
        root.Subcommands.Add(Metrics(cli));
    }

    /// <summary>Extractor and run options shared by the metric commands.</summary>
    private sealed class Common
    {
        public readonly Option<string?> Extractor = new("--extractor") { Description = "inception (pytorch-fid's network; default when its weights are installed) or fmnist (bundled Fashion-MNIST network; results are FD-FMNIST)" };
        public readonly Option<int?> Dims = new("--dims") { Description = "Inception feature layer: 64, 192, 768 or 2048 (default 2048, pool3)" };
        public readonly Option<string?> Preprocess = new("--preprocess") { Description = "pytorch-fid (FID default) or torch-fidelity (IS/KID default): resize and scaling of the reference tool" };
        public readonly Option<string?> Weights = new("--weights") { Description = "Inception weights file (default: the cache, or $GEN_INCEPTION_WEIGHTS)" };
        public readonly Option<string?> WeightsSha = new("--weights-sha256") { Description = "Accept a non-standard Inception weights file with this SHA-256 (results are marked non-standard)" };
        public readonly Option<string?> FmnistWeights = new("--fmnist-weights") { Description = "A retrained Fashion-MNIST extractor instead of the bundled one" };
        public readonly Option<string> DType = new("--dtype") { Description = "float32 or bf16 feature extraction", DefaultValueFactory = _ => "float32" };
        public readonly Option<int> Batch = new("--batch") { Description = "Images per extraction batch (pytorch-fid: 50)", DefaultValueFactory = _ => FeatureRunner.DefaultBatch };
        public readonly Option<int> Threads = new("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        public readonly Option<int?> N = new("--n") { Description = "Images to sample from a checkpoint; for folders and datasets, use only the first N" };
        public readonly Option<long> Seed = new("--seed") { Description = "First seed when sampling a checkpoint (image i uses seed + i)", DefaultValueFactory = _ => 0 };
        public readonly Option<bool> Json = new("--json") { Description = "Print the result as JSON" };

        private EngineOptions? _engine;

        public void AddTo(Command c)
        {
            foreach (Option o in new Option[] { Extractor, Dims, Preprocess, Weights, WeightsSha, FmnistWeights, DType, Batch, Threads, N, Seed, Json })
                c.Options.Add(o);
            _engine = new EngineOptions(c);
        }

        /// <summary>The extractor options; also applies --engine/--device, which choose how generator checkpoints are sampled.</summary>
        public ExtractorOptions Build(ParseResult r)
        {
            _engine?.Apply(r, threads: r.GetValue(Threads));
            return BuildExtractor(r);
        }

        private ExtractorOptions BuildExtractor(ParseResult r) => new()
        {
            Kind = r.GetValue(Extractor) switch
            {
                null => null,
                "inception" => ExtractorKind.Inception,
                "fmnist" => ExtractorKind.Fmnist,
                string other => throw new GenInputException($"--extractor takes inception or fmnist, got '{other}'"),
            },
            Dims = r.GetValue(Dims),
            Preprocess = r.GetValue(Preprocess) is { } p ? Gen.Metrics.Features.Preprocess.Parse(p) : null,
            Weights = r.GetValue(Weights),
            WeightsSha256 = r.GetValue(WeightsSha),
            FmnistWeights = r.GetValue(FmnistWeights),
            DType = r.GetValue(DType) switch
            {
                "float32" or "fp32" => FeatureDType.Float32,
                "bf16" or "bfloat16" => FeatureDType.BFloat16,
                var other => throw new GenInputException($"--dtype takes float32 or bf16, got '{other}'"),
            },
            Batch = r.GetValue(Batch),
            Threads = r.GetValue(Threads),
        };
    }

    private static Command Fid(Func<CliContext> cli)
    {
        var command = new Command("fid", "Fréchet Inception Distance between two inputs (folders, datasets, .npz statistics or generator checkpoints)");
        var a = new Argument<string>("A") { Description = "Image folder, dataset (fashion-mnist:test), .npz statistics or generator checkpoint" };
        var b = new Argument<string>("B") { Description = "The second input, same kinds" };
        var nCurve = new Option<string?>("--n-curve") { Description = "FID at several sample counts of A (e.g. 500,1000,2000,5000) and its extrapolation to infinitely many (FID∞, Chong & Forsyth 2020)" };
        var perClass = new Option<bool>("--per-class") { Description = "FID of every class against the same class of B (B: a labelled dataset or class subfolders; A: class subfolders, or a conditional checkpoint with --n images per class)" };
        var plot = new Option<string?>("--plot") { Description = "With --per-class: write a bar chart of the per-class values to this PNG" };
        var common = new Common();
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        command.Options.Add(nCurve);
        command.Options.Add(perClass);
        command.Options.Add(plot);
        common.AddTo(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var jobs = Jobs(c, common.Build(r));
            if (r.GetValue(perClass))
            {
                if (r.GetValue(nCurve) is not null) throw new GenInputException("--per-class and --n-curve are separate analyses; run them one at a time");
                PerClassFidResult pc = jobs.PerClassFid(r.GetValue(a)!, r.GetValue(b)!, r.GetValue(common.N), r.GetValue(common.Seed), r.GetValue(plot));
                Warn(c, pc.Warnings);
                if (r.GetValue(common.Json)) { c.WriteJson(pc); return ExitCodes.Ok; }
                c.Out.WriteLine($"{pc.Metric} per class: A {pc.A.Name}, B {pc.B.Name}");
                foreach (var k in pc.Classes) c.Out.WriteLine(F($"  {k.Class,3} {k.Name,-14}{k.Value,10:F4}  (N = {k.ImagesA} vs {k.ImagesB})"));
                c.Out.WriteLine(F($"  mean {pc.Mean:F4} over {pc.Classes.Count} classes"));
                c.Out.WriteLine($"  extractor: {Describe(pc.Extractor)}");
                if (pc.Plot is not null) c.Out.WriteLine($"  plot: {pc.Plot}");
                return ExitCodes.Ok;
            }
            if (r.GetValue(plot) is not null) throw new GenInputException("--plot draws the per-class values; add --per-class");
            if (r.GetValue(nCurve) is { } curveText)
            {
                FidVsNResult curve = jobs.FidCurveOverN(r.GetValue(a)!, r.GetValue(b)!, FidVsN.Parse(curveText), r.GetValue(common.N), null, r.GetValue(common.Seed));
                Warn(c, curve.Warnings);
                if (r.GetValue(common.Json)) { c.WriteJson(curve); return ExitCodes.Ok; }
                c.Out.WriteLine($"{curve.Metric} against N: A {curve.A.Name}, B {curve.B.Name} (N = {N(curve.B.N)})");
                foreach (var p in curve.Points) c.Out.WriteLine(F($"  N = {p.N,7}: {p.Value,10:F4}"));
                c.Out.WriteLine(F($"  {curve.Metric}∞ = {curve.Infinity:F4} (line through 1/N: slope {curve.Slope:F1}, R² {curve.RSquared:F4})"));
                c.Out.WriteLine($"  extractor: {Describe(curve.Extractor)}");
                return ExitCodes.Ok;
            }
            FidResult res = jobs.Fid(r.GetValue(a)!, r.GetValue(b)!, r.GetValue(common.N), r.GetValue(common.N), r.GetValue(common.Seed));
            Warn(c, res.Warnings);
            if (r.GetValue(common.Json)) c.WriteJson(res);
            else
            {
                c.Out.WriteLine(F($"{res.Metric}: {res.Value:F4}"));
                c.Out.WriteLine($"  A: {res.A.Name} (N = {N(res.A.N)})");
                c.Out.WriteLine($"  B: {res.B.Name} (N = {N(res.B.N)})");
                if (res.Extractor is { } e) c.Out.WriteLine($"  extractor: {Describe(e)}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Stats(Func<CliContext> cli)
    {
        var command = new Command("stats", "Write feature statistics (mu, sigma; float64 .npz as pytorch-fid's --save-stats)");
        var a = new Argument<string>("A") { Description = "Image folder, dataset or generator checkpoint" };
        var output = new Option<string>("--out", "-o") { Description = "Output .npz file", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var shard = new Option<string?>("--shard") { Description = "Only part k of n (k from 0, e.g. $SLURM_ARRAY_TASK_ID/8): write its statistics for 'gen stats merge'" };
        var common = new Common();
        command.Arguments.Add(a);
        command.Options.Add(output);
        command.Options.Add(force);
        command.Options.Add(shard);
        common.AddTo(command);
        command.Subcommands.Add(Merge(cli));
        command.SetAction(r =>
        {
            CliContext c = cli();
            Gen.Metrics.Sources.Shard? part = r.GetValue(shard) is { } text ? Gen.Metrics.Sources.Shard.Parse(text) : null;
            StatsResult res = Jobs(c, common.Build(r)).SaveStats(r.GetValue(a)!, r.GetValue(output)!, r.GetValue(force), r.GetValue(common.N), r.GetValue(common.Seed), part);
            Warn(c, res.Warnings);
            if (r.GetValue(common.Json)) c.WriteJson(res);
            else c.Out.WriteLine($"wrote {res.Out}: {res.Extractor.Dims}-d statistics of {res.Input.Name} (N = {N(res.Input.N)}; {Describe(res.Extractor)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Merge(Func<CliContext> cli)
    {
        var command = new Command("merge", "Combine the shard files of one input (gen stats A --shard k/n) into the statistics of the whole");
        var parts = new Argument<string[]>("parts") { Description = "The shard .npz files, all n of them", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Output .npz file", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing file" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(parts);
        foreach (Option o in new Option[] { output, force, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            StatsResult res = MetricJobs.MergeStats(r.GetValue(parts)!, r.GetValue(output)!, r.GetValue(force));
            Warn(c, res.Warnings);
            if (r.GetValue(json)) c.WriteJson(res);
            else c.Out.WriteLine($"wrote {res.Out}: {res.Extractor.Dims}-d statistics of {res.Input.Name} (N = {N(res.Input.N)}; {Describe(res.Extractor)})");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Is(Func<CliContext> cli)
    {
        var command = new Command("is", "Inception Score (torch-fidelity's definition: logits without fc bias, 10 splits, shuffle seed 2020)");
        var a = new Argument<string>("A") { Description = "Image folder, dataset or generator checkpoint" };
        var splits = new Option<int>("--splits") { Description = "Number of splits", DefaultValueFactory = _ => InceptionScore.DefaultSplits };
        var common = new Common();
        command.Arguments.Add(a);
        command.Options.Add(splits);
        common.AddTo(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            ScoreRecord res = Jobs(c, common.Build(r)).InceptionScoreOf(r.GetValue(a)!, r.GetValue(common.N), r.GetValue(common.Seed), r.GetValue(splits));
            PrintScore(c, res, r.GetValue(common.Json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Kid(Func<CliContext> cli)
    {
        var command = new Command("kid", "Kernel Inception Distance (cubic polynomial kernel, torch-fidelity's subsets)");
        var a = new Argument<string>("A") { Description = "Image folder, dataset or generator checkpoint" };
        var b = new Argument<string>("B") { Description = "The second input" };
        var subsets = new Option<int>("--subsets") { Description = "Number of random subsets", DefaultValueFactory = _ => Gen.Metrics.Kid.DefaultSubsets };
        var size = new Option<int>("--subset-size") { Description = "Images per subset", DefaultValueFactory = _ => Gen.Metrics.Kid.DefaultSubsetSize };
        var common = new Common();
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        command.Options.Add(subsets);
        command.Options.Add(size);
        common.AddTo(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            ScoreRecord res = Jobs(c, common.Build(r)).KidOf(r.GetValue(a)!, r.GetValue(b)!, r.GetValue(common.N), r.GetValue(common.N),
                                                             r.GetValue(common.Seed), r.GetValue(subsets), r.GetValue(size));
            PrintScore(c, res, r.GetValue(common.Json));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command EvalGenCommand(Func<CliContext> cli)
    {
        var command = new Command("eval-gen", "Every metric of generated images A against a reference B from one feature pass: FID, KID, IS, precision/recall, density/coverage, with bootstrap intervals");
        var a = new Argument<string>("A") { Description = "Generated images: a folder, or a generator checkpoint (with --n)" };
        var b = new Argument<string>("B") { Description = "Reference images: a dataset (fashion-mnist:test) or a folder" };
        var metrics = new Option<string>("--metrics") { Description = "Comma-separated: fid, kid, is, pr (precision/recall), dc (density/coverage)", DefaultValueFactory = _ => "fid,kid,pr,dc" };
        var kPr = new Option<int>("--k-pr") { Description = "Neighbours for precision/recall (Kynkäänniemi et al.: 3)", DefaultValueFactory = _ => Manifold.DefaultKPr };
        var kDc = new Option<int>("--k-dc") { Description = "Neighbours for density/coverage (Naeem et al.: 5)", DefaultValueFactory = _ => Manifold.DefaultKDc };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap replicates for 95% intervals (0 = off; 200 is usual)", DefaultValueFactory = _ => 0 };
        var bootstrapSeed = new Option<long>("--bootstrap-seed") { Description = "Seed of the bootstrap resampling", DefaultValueFactory = _ => 0 };
        var subsets = new Option<int>("--subsets") { Description = "KID subsets", DefaultValueFactory = _ => Gen.Metrics.Kid.DefaultSubsets };
        var size = new Option<int>("--subset-size") { Description = "KID images per subset (lowered to the smaller set's size)", DefaultValueFactory = _ => Gen.Metrics.Kid.DefaultSubsetSize };
        var splits = new Option<int>("--splits") { Description = "IS splits", DefaultValueFactory = _ => InceptionScore.DefaultSplits };
        var nRef = new Option<int?>("--n-ref") { Description = "Use only the first N reference images (default: all; --n applies to A)" };
        var common = new Common();
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        foreach (Option o in new Option[] { metrics, kPr, kDc, bootstrap, bootstrapSeed, subsets, size, splits, nRef }) command.Options.Add(o);
        common.AddTo(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var options = new EvalGenOptions
            {
                Metrics = EvalGenOptions.Parse(r.GetValue(metrics)!),
                KPr = r.GetValue(kPr), KDc = r.GetValue(kDc),
                Bootstrap = r.GetValue(bootstrap), BootstrapSeed = r.GetValue(bootstrapSeed),
                KidSubsets = r.GetValue(subsets), KidSubsetSize = r.GetValue(size), IsSplits = r.GetValue(splits),
            };
            options.Validate();
            EvalGenResult res = Jobs(c, common.Build(r)).EvalGen(r.GetValue(a)!, r.GetValue(b)!, r.GetValue(common.N), r.GetValue(nRef), r.GetValue(common.Seed), options);
            Warn(c, res.Warnings);
            if (r.GetValue(common.Json)) { c.WriteJson(res); return ExitCodes.Ok; }
            c.Out.WriteLine($"A: {res.A.Name} (N = {N(res.A.N)})");
            c.Out.WriteLine($"B: {res.B.Name} (N = {N(res.B.N)})");
            c.Out.WriteLine($"extractor: {Describe(res.Extractor)}");
            bool ci = res.Bootstrap > 0;
            c.Out.WriteLine(ci ? F($"  {"metric",-12}{"value",12}  95% interval ({res.Bootstrap} bootstrap replicates)") : F($"  {"metric",-12}{"value",12}"));
            foreach (var v in res.Values)
            {
                string interval = v.Low is { } lo && v.High is { } hi ? F($"  [{lo:F4}, {hi:F4}]") : "";
                c.Out.WriteLine(F($"  {v.Name,-12}{v.Value,12:F4}{interval}{(v.Note is null ? "" : "  (" + v.Note + ")")}"));
            }
            c.Out.WriteLine(F($"features {res.ExtractSeconds:F1} s, metrics {res.MetricSeconds:F1} s"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Curve(Func<CliContext> cli)
    {
        var command = new Command("fid-curve", "FID (or FD-FMNIST) of every checkpoint of a training run against a reference; writes fid_curve.json and fid_curve.png");
        var run = new Argument<string>("run") { Description = "A training run folder (holds checkpoints/)" };
        var reference = new Option<string>("--ref") { Description = "Reference: dataset, folder or .npz statistics", Required = true };
        var common = new Common();
        command.Arguments.Add(run);
        command.Options.Add(reference);
        common.AddTo(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            int n = r.GetValue(common.N) ?? FidCurve.DefaultN;
            CurveResult res = FidCurve.Run(r.GetValue(run)!, r.GetValue(reference)!, n, r.GetValue(common.Seed), common.Build(r),
                                           Progress(c), new Progress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            Warn(c, res.Warnings);
            if (r.GetValue(common.Json)) c.WriteJson(res);
            else
            {
                c.Out.WriteLine($"{res.Metric} vs {res.Reference} (N = {res.N}, seeds {res.Seed}…{res.Seed + res.N - 1}; {Describe(res.Extractor)})");
                foreach (var p in res.Points) c.Out.WriteLine(F($"  step {p.Step,10}: {p.Value,10:F4}{(p.Reused ? "  (cached)" : "")}"));
                c.Out.WriteLine($"wrote {res.Json} and {res.Plot}");
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Weights(Func<CliContext> cli)
    {
        var weights = new Command("weights", "Install pretrained weights Gen uses");
        var fetch = new Command("fetch", "Download (or import with --from) and verify pretrained weights");
        var name = new Argument<string>("name") { Description = "inception: pytorch-fid's FID Inception (pt_inception-2015-12-05-6726825d.pth)" };
        var from = new Option<string?>("--from") { Description = "A local copy of the file, or another URL" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        fetch.Arguments.Add(name);
        fetch.Options.Add(from);
        fetch.Options.Add(json);
        fetch.SetAction(r =>
        {
            CliContext c = cli();
            if (r.GetValue(name) != "inception")
                throw new GenInputException($"unknown weights '{r.GetValue(name)}'; Gen fetches: inception");
            string path = InceptionWeights.Fetch(r.GetValue(from), new Progress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            if (r.GetValue(json)) c.WriteJson(new { name = "inception", path, sha256 = InceptionWeights.Sha256, bytes = InceptionWeights.Bytes });
            else c.Out.WriteLine($"inception weights verified (SHA-256 {InceptionWeights.Sha256}) at {path}");
            return ExitCodes.Ok;
        });
        weights.Subcommands.Add(fetch);
        return weights;
    }

    private static Command Metrics(Func<CliContext> cli)
    {
        var metrics = new Command("metrics", "Metric tools");
        var train = new Command("train-extractor", "Train the Fashion-MNIST feature network (FD-FMNIST) and optionally export it with its test statistics");
        var data = new Option<string>("--data", "-d") { Description = "Training data", DefaultValueFactory = _ => "fashion-mnist" };
        var export = new Option<string?>("--export") { Description = "Write the frozen extractor, its test-split statistics and a JSON record here (e.g. assets/metrics)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var outOption = new Option<string>("--out", "-o") { Description = "Run folder", DefaultValueFactory = _ => "runs/fmnist-extractor" };
        train.Options.Add(data);
        train.Options.Add(export);
        train.Options.Add(outOption);
        var options = new ParamOptions(ParamSchema.Of<TrainConfig>().Specs, train);
        train.Options.Add(json);
        train.SetAction(r =>
        {
            CliContext c = cli();
            string outDir = r.GetValue(outOption)!;
            TrainConfig config = ParamSchema.Of<TrainConfig>().Bind(FmnistExtractorTraining.Recipe, options.Given(r), "gen metrics train-extractor");
            config.Validate();
            TrainResult result = ProgressView.Run(c, "train-extractor", p =>
                FmnistExtractorTraining.Train(r.GetValue(data)!, config, outDir, p, c.Cancel, new Progress<string>(m => c.Err.WriteLine(m))));
            object? exported = null;
            if (r.GetValue(export) is { } dir && !result.Interrupted)
                exported = FmnistExtractorTraining.Export(outDir, dir, r.GetValue(data)!, new Progress<string>(m => c.Err.WriteLine(m)));
            if (r.GetValue(json)) c.WriteJson(new { run = outDir, step = result.Step, metrics = result.FinalMetrics, exported });
            else
            {
                c.Out.WriteLine(F($"trained {result.Step} steps; test accuracy {result.FinalMetrics.GetValueOrDefault("test_acc"):P2}; run {outDir}"));
                if (exported is not null) c.Out.WriteLine($"exported to {r.GetValue(export)}: {exported}");
            }
            return result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        metrics.Subcommands.Add(train);

        var exportCmd = new Command("export-extractor", "Freeze a trained Fashion-MNIST extractor run into asset files (weights, test statistics, JSON record)");
        var runArg = new Argument<string>("run") { Description = "The run folder of 'gen metrics train-extractor'" };
        var exportDir = new Option<string>("--export") { Description = "Output folder (e.g. assets/metrics)", Required = true };
        var exportData = new Option<string>("--data", "-d") { Description = "The data it was trained on", DefaultValueFactory = _ => "fashion-mnist" };
        exportCmd.Arguments.Add(runArg);
        exportCmd.Options.Add(exportDir);
        exportCmd.Options.Add(exportData);
        exportCmd.SetAction(r =>
        {
            CliContext c = cli();
            var record = FmnistExtractorTraining.Export(r.GetValue(runArg)!, r.GetValue(exportDir)!, r.GetValue(exportData)!, new Progress<string>(m => c.Err.WriteLine(m)));
            c.Out.WriteLine(record.ToJsonString(Gen.Pipeline.Json.Options));
            return ExitCodes.Ok;
        });
        metrics.Subcommands.Add(exportCmd);
        return metrics;
    }

    private static MetricJobs Jobs(CliContext c, ExtractorOptions o) =>
        new(o, Progress(c), new Progress<string>(m => c.Err.WriteLine(m)), c.Cancel);

    /// <summary>Progress on stderr: a line every few seconds, and every notice at once.</summary>
    private static IProgress<MetricProgress> Progress(CliContext c)
    {
        var clock = Stopwatch.StartNew();
        double last = -10;
        return new SyncProgress<MetricProgress>(p =>
        {
            if (p.Message is not null) { c.Err.WriteLine($"note: {p.Message}"); return; }
            if (p.Done != p.Total && clock.Elapsed.TotalSeconds - last < (c.Interactive ? 1 : 5)) return;
            last = clock.Elapsed.TotalSeconds;
            c.Err.WriteLine(F($"{p.Stage}: {p.Done}/{p.Total} images{(p.ImagesPerSecond > 0 ? $", {p.ImagesPerSecond:F1} img/s" : "")}"));
        });
    }

    private static void PrintScore(CliContext c, ScoreRecord res, bool json)
    {
        Warn(c, res.Warnings);
        if (json) { c.WriteJson(res); return; }
        c.Out.WriteLine(F($"{res.Metric}: {res.Mean:G6} ± {res.Std:G4}"));
        c.Out.WriteLine($"  A: {res.A.Name} (N = {N(res.A.N)})");
        if (res.B is { } b) c.Out.WriteLine($"  B: {b.Name} (N = {N(b.N)})");
        c.Out.WriteLine($"  extractor: {Describe(res.Extractor)}");
    }

    private static void Warn(CliContext c, IEnumerable<string> warnings)
    {
        foreach (string w in warnings) c.Err.WriteLine($"warning: {w}");
    }

    private static string Describe(ExtractorRecord e) =>
        $"{e.Name} {e.Layer} ({e.Dims}-d), weights {e.WeightsSha256[..Math.Min(8, e.WeightsSha256.Length)]}{(e.StandardWeights ? "" : " (non-standard)")}, {e.Dtype}{(e.Engine == "torch" ? "" : ", " + e.Engine)}, {e.Preprocessing}";

    private static string N(long? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "n/a (statistics file)";

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
