// gen train diffusion (EDM baseline or LowDiff cascade) and gen sample (grids, PNG folders, .npz from
// a diffusion checkpoint; without one, the bundled Fashion-MNIST checkpoint in assets/diffusion/).
using System.CommandLine;
using System.Globalization;
using Gen.Generative.Diffusion;
using Gen.Pipeline;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Spectre.Console;
using static TorchSharp.torch;

namespace Gen.Cli.Commands;

public static class DiffusionCommands
{
    /// <summary>The bundled checkpoint, relative to the repository (or install) root.</summary>
    public const string BundledCheckpoint = "assets/diffusion/fmnist.safetensors";

    // diffusion.md §2 [DD] for CPU-scale runs: Adam (0.9, 0.999, 1e-8) as edm/train.py, lr 1e-3 at
    // batch 128, linear warm-up over the first 10k images (79 steps), constant LR after it (EDM has no
    // decay), EMA half-life 50k images with EDM's 0.05 ramp-up, no weight decay; ≈2 epochs (~25 min
    // estimated on 2 cores, spec §2).
    public static readonly TrainConfig Defaults = new()
    {
        Epochs = 2,
        Batch = 128,
        Lr = 1e-3,
        Optimizer = OptimizerKind.Adam,
        Beta1 = 0.9,
        Beta2 = 0.999,
        Eps = 1e-8,
        WeightDecay = 0,
        WarmupSteps = 79,
        Schedule = LrScheduleKind.Constant,
        EmaHalfLifeImages = 50_000,
        EmaRampup = 0.05,
        CheckpointEvery = 250,
        LogEvery = 20,
        Threads = 0,
    };

    /// <summary>Registers `gen train diffusion`, `gen sample` and the edm/lowdiff checkpoint kinds as image generators.</summary>
    public static void Register(Command train, RootCommand root, Func<CliContext> cli)
    {
        train.Subcommands.Add(CreateTrain(cli));
        root.Subcommands.Add(CreateSample(cli));
        DiffusionImageSampler.Register();
    }

    public static Command CreateTrain(Func<CliContext> cli)
    {
        var command = new Command("diffusion", "Train an EDM diffusion model, or with --cascade one LowDiff network over several resolutions");
        var data = new Option<string>("--data", "-d") { Description = "Training data: fashion-mnist, mnist, cifar10, a folder, or NAME:train", DefaultValueFactory = _ => "fashion-mnist" };
        var cascade = new Option<string?>("--cascade") { Description = "LowDiff resolutions, low to high, ending at the padded image size (e.g. 8,16,32); omit for the EDM baseline" };
        var conditional = new Option<bool>("--conditional") { Description = "Class-conditional training with label dropout (enables --class and --guidance when sampling)" };
        var width = new Option<int>("--width") { Description = "UNet base channels C (levels use C·channel-mult)", DefaultValueFactory = _ => 16 };
        var mult = new Option<string>("--channel-mult") { Description = "Channel multipliers per UNet level", DefaultValueFactory = _ => "1,2,4" };
        var blocks = new Option<int>("--blocks") { Description = "Residual blocks per level in the encoder (decoder: one more)", DefaultValueFactory = _ => 2 };
        var dropout = new Option<double>("--dropout") { Description = "Dropout inside residual blocks", DefaultValueFactory = _ => 0.0 };
        var stageProbs = new Option<string?>("--stage-probs") { Description = "LowDiff: probability of training each stage (default 0.3,0.3,0.4)" };
        var stageWeights = new Option<string?>("--stage-weights") { Description = "LowDiff: loss weight of each stage (default all 1)" };
        var labelDropout = new Option<double>("--label-dropout") { Description = "Probability of dropping the class label (classifier-free guidance)", DefaultValueFactory = _ => 0.1 };
        var sampleEvery = new Option<long>("--sample-every") { Description = "Steps between sample grids in RUN/samples (0 = only at the end)", DefaultValueFactory = _ => 500 };
        var gridN = new Option<int>("--grid-n") { Description = "Images in each training sample grid", DefaultValueFactory = _ => 64 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the resolved options and exit" };
        var train = new TrainOptions("runs/edm");
        foreach (Option o in new Option[] { data, cascade, conditional, width, mult, blocks, dropout, stageProbs, stageWeights, labelDropout, sampleEvery, gridN })
            command.Options.Add(o);
        train.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(dryRun);

        command.SetAction(r =>
        {
            CliContext c = cli();
            var p = new TrainDiffusionParams
            {
                Data = r.GetValue(data)!,
                Train = train.Build(r, Defaults),
                Width = TrainClassifierCommand.Positive(r.GetValue(width), "--width"),
                ChannelMult = TrainClassifierCommand.ParseInts(r.GetValue(mult)!, "--channel-mult"),
                Blocks = TrainClassifierCommand.Positive(r.GetValue(blocks), "--blocks"),
                Dropout = r.GetValue(dropout),
                Cascade = r.GetValue(cascade) is { } cs ? TrainClassifierCommand.ParseInts(cs, "--cascade") : [],
                StageProbs = r.GetValue(stageProbs) is { } sp ? ParseDoubles(sp, "--stage-probs") : [],
                StageWeights = r.GetValue(stageWeights) is { } sw ? ParseDoubles(sw, "--stage-weights") : [],
                Conditional = r.GetValue(conditional),
                LabelDropout = r.GetValue(labelDropout),
                SampleEvery = r.GetValue(sampleEvery),
                GridCount = r.GetValue(gridN),
                Resume = r.GetValue(train.Resume),
            };
            if ((p.StageProbs.Length > 0 || p.StageWeights.Length > 0) && p.Cascade.Length == 0)
                throw new GenInputException("--stage-probs and --stage-weights apply to a LowDiff cascade; add --cascade 8,16,32");
            string outDir = r.GetValue(train.Out)!;
            if (r.GetValue(dryRun))
            {
                c.Out.WriteLine(Json.Serialize(new { out_dir = outDir, parameters = p }));
                return ExitCodes.Ok;
            }
            TrainResult result = ProgressView.Run(c, "train", progress =>
                new TrainDiffusionStage(progress).Run(p, new StageContext { OutputDir = outDir, Cancel = c.Cancel, Log = new Progress<string>(m => c.Err.WriteLine(m)) }));
            if (r.GetValue(json))
                c.WriteJson(new { run = outDir, checkpoint = result.LastCheckpoint, step = result.Step, interrupted = result.Interrupted, elapsed_s = result.ElapsedSeconds });
            else if (result.Interrupted)
                c.Console.MarkupLine($"[yellow]interrupted[/] at step {result.Step}; checkpoint saved to {Markup.Escape(result.LastCheckpoint)}; continue with --resume");
            else
                c.Console.MarkupLine($"trained {result.Step} steps in {result.ElapsedSeconds:F0} s; checkpoint {Markup.Escape(result.LastCheckpoint)}; sample grids in {Markup.Escape(Path.Combine(outDir, TrainDiffusionStage.SamplesDir))}");
            return result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateSample(Func<CliContext> cli)
    {
        var command = new Command("sample", "Sample images from a diffusion checkpoint (EDM or LowDiff): grid PNG, PNG folder, .npz");
        var checkpoint = new Argument<string?>("checkpoint") { Description = $"A diffusion checkpoint or run folder (default: the bundled {BundledCheckpoint})", Arity = ArgumentArity.ZeroOrOne };
        var n = new Option<int>("--n") { Description = "Number of images", DefaultValueFactory = _ => 64 };
        var seed = new Option<long>("--seed") { Description = "Seed of the first image; image i uses seed + i", DefaultValueFactory = _ => 0 };
        var seedList = new Option<string?>("--seeds") { Description = "Explicit seeds, e.g. 0-63 or 1,5,9 (overrides --seed and --n)" };
        var grid = new Option<string?>("--grid") { Description = "Write a PNG grid of the images" };
        var outDir = new Option<string?>("--out", "-o") { Description = "Write one PNG per image (named by seed) into this folder" };
        var npz = new Option<string?>("--npz") { Description = "Write the images as a uint8 N×H×W×C array (arr_0) in an .npz file" };
        var steps = new Option<int?>("--steps") { Description = "Heun steps of an EDM checkpoint (default 18 = 35 NFE)" };
        var stageSteps = new Option<string?>("--stage-steps") { Description = "Heun steps per cascade stage of a LowDiff checkpoint (default 18,8,6)" };
        var sigmaStart = new Option<double>("--sigma-start") { Description = "LowDiff: noise level at which each refine stage starts", DefaultValueFactory = _ => 2.0 };
        var sigmaAug = new Option<double>("--sigma-aug") { Description = "LowDiff: noise added to the condition at inference", DefaultValueFactory = _ => 0.0 };
        var cls = new Option<int?>("--class") { Description = "Class index for a conditional checkpoint (default: seed mod classes)" };
        var guidance = new Option<double>("--guidance") { Description = "Classifier-free guidance g (1 = off)", DefaultValueFactory = _ => 1.0 };
        var churn = new Option<double>("--churn") { Description = "Stochastic churn S_churn (0 = deterministic ODE)", DefaultValueFactory = _ => 0.0 };
        var sMin = new Option<double>("--s-min") { Description = "Churn only at σ ≥ S_min", DefaultValueFactory = _ => 0.0 };
        var sMax = new Option<double>("--s-max") { Description = "Churn only at σ ≤ S_max", DefaultValueFactory = _ => double.PositiveInfinity };
        var sNoise = new Option<double>("--s-noise") { Description = "Churn noise scale S_noise", DefaultValueFactory = _ => 1.0 };
        var bf16 = new Option<bool>("--bf16") { Description = "Run the network in bfloat16 (sampler state stays float64)" };
        var batch = new Option<int>("--batch") { Description = "Images per sampler batch", DefaultValueFactory = _ => 256 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = libtorch's default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(checkpoint);
        foreach (Option o in new Option[] { n, seed, seedList, grid, outDir, npz, steps, stageSteps, sigmaStart, sigmaAug, cls, guidance, churn, sMin, sMax, sNoise, bf16, batch, threads, json })
            command.Options.Add(o);

        command.SetAction(r =>
        {
            CliContext c = cli();
            if (r.GetValue(steps) is not null && r.GetValue(stageSteps) is not null)
                throw new GenInputException("give either --steps or --stage-steps, not both");
            var seeds = r.GetValue(seedList) is { } sl ? ParseSeeds(sl) : Seeds(r.GetValue(seed), r.GetValue(n));
            int th = r.GetValue(threads);
            if (th < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {th}");
            string path = r.GetValue(checkpoint) ?? Bundled();
            Denormals.Configure(th);   // before any tensor work: libtorch's worker threads inherit flush-to-zero
            using var model = DiffusionModel.Load(path);
            int[]? stepCounts = r.GetValue(steps) is { } st ? [st]
                : r.GetValue(stageSteps) is { } ss ? TrainClassifierCommand.ParseInts(ss, "--stage-steps") : null;
            if (r.GetValue(steps) is not null && model.Config.IsCascade)
                throw new GenInputException($"this LowDiff checkpoint samples in {model.Config.Stages} stages; give --stage-steps with {model.Config.Stages} counts (e.g. 18,8,6) instead of --steps");
            var options = new SampleOptions
            {
                StageSteps = stepCounts,
                SigmaStart = r.GetValue(sigmaStart),
                SigmaAug = r.GetValue(sigmaAug),
                ClassIndex = r.GetValue(cls),
                Guidance = r.GetValue(guidance),
                Churn = new ChurnOptions { SChurn = r.GetValue(churn), SMin = r.GetValue(sMin), SMax = r.GetValue(sMax), SNoise = r.GetValue(sNoise) },
                Batch = r.GetValue(batch),
            };
            DiffusionSampler.Validate(model.Config, options, seeds.Count);
            if (r.GetValue(bf16)) model.ToBFloat16();

            var (images, stats) = RunWithProgress(c, seeds.Count, progress => DiffusionSampler.Sample(model, seeds, options, progress, c.Cancel));
            using (images)
            {
                string? gridPath = r.GetValue(grid), folder = r.GetValue(outDir), npzPath = r.GetValue(npz);
                if (gridPath is not null) SampleWriter.WriteGrid(gridPath, images);
                if (folder is not null) SampleWriter.WriteFolder(folder, images, seeds);
                if (npzPath is not null) SampleWriter.WriteNpz(npzPath, images, seeds);
                Report(c, r.GetValue(json), model, stats, r.GetValue(bf16), gridPath, folder, npzPath, seeds);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Report(CliContext c, bool json, DiffusionModel model, SampleStats s, bool bf16,
                               string? grid, string? folder, string? npz, IReadOnlyList<long> seeds)
    {
        var stages = s.Resolutions.Select((res, i) => new { resolution = res, steps = s.Steps[i], nfe = s.NfePerStage[i] }).ToArray();
        if (json)
        {
            c.WriteJson(new
            {
                checkpoint = model.Path,
                kind = model.Config.Kind,
                step = model.Step,
                n = s.Images,
                first_seed = seeds[0],
                last_seed = seeds[^1],
                dtype = bf16 ? "bf16" : "fp32",
                stages,
                nfe_full_res_equivalent = s.FullResEquivalentNfe,
                seconds = s.Seconds,
                images_per_s = s.ImagesPerSecond,
                grid,
                out_dir = folder,
                npz,
            });
            return;
        }
        string per = string.Join(", ", stages.Select(x => $"{x.resolution}²: {x.nfe} ({x.steps} steps)"));
        c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{s.Images} images from {model.Config.Kind} step {model.Step} ({(bf16 ? "bf16" : "fp32")}) in {s.Seconds:F2} s: {s.ImagesPerSecond:F1} images/s")));
        c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"NFE per resolution: {per}; {s.FullResEquivalentNfe:F2} full-resolution-equivalent")));
        if (grid is not null) c.Console.MarkupLine($"grid: {Markup.Escape(grid)}");
        if (folder is not null) c.Console.MarkupLine($"images: {Markup.Escape(folder)}");
        if (npz is not null) c.Console.MarkupLine($"npz: {Markup.Escape(npz)}");
    }

    private static T RunWithProgress<T>(CliContext c, int total, Func<IProgress<int>, T> work)
    {
        if (!c.Interactive) return work(new Progress<int>(_ => { }));
        T result = default!;
        c.ErrConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask("sample", maxValue: total);
                result = work(new SyncProgress(done => task.Value = done));
            });
        return result;
    }

    private sealed class SyncProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    /// <summary>The bundled checkpoint: $GEN_ASSETS, then upward from the executable and the working folder.</summary>
    public static string Bundled()
    {
        string rel = BundledCheckpoint["assets/".Length..];
        if (Environment.GetEnvironmentVariable("GEN_ASSETS") is { Length: > 0 } env && File.Exists(Path.Combine(env, rel)))
            return Path.Combine(env, rel);
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var d = new DirectoryInfo(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, BundledCheckpoint);
                if (File.Exists(candidate)) return candidate;
            }
        throw new GenInputException($"no checkpoint given and the bundled {BundledCheckpoint} was not found (set GEN_ASSETS to the assets folder); pass a checkpoint: gen sample CKPT");
    }

    internal static List<long> Seeds(long first, int n)
    {
        if (n <= 0) throw new GenInputException($"--n must be at least 1, got {n}");
        return Enumerable.Range(0, n).Select(i => first + i).ToList();
    }

    internal static List<long> ParseSeeds(string text)
    {
        var seeds = new List<long>();
        try
        {
            foreach (string part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int dash = part.IndexOf('-', 1);
                if (dash > 0)
                {
                    long a = long.Parse(part[..dash], CultureInfo.InvariantCulture), b = long.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
                    if (b < a || b - a >= 10_000_000) throw new FormatException();
                    for (long s = a; s <= b; s++) seeds.Add(s);
                }
                else seeds.Add(long.Parse(part, CultureInfo.InvariantCulture));
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new GenInputException($"--seeds takes integers and ranges separated by commas (e.g. 0-63 or 1,5,9), got '{text}'");
        }
        if (seeds.Count == 0) throw new GenInputException("--seeds is empty; give e.g. 0-63");
        return seeds;
    }

    internal static double[] ParseDoubles(string text, string name)
    {
        try
        {
            return text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                       .Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException)
        {
            throw new GenInputException($"{name} takes numbers separated by commas (e.g. 0.3,0.3,0.4), got '{text}'");
        }
    }
}
