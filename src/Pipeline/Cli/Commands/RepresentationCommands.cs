// gen pretrain (self-supervised encoder training: rotnet, simclr, mocov2, simsiam, optionally with the
// Hallucinator; supervised as the ceiling) and gen probe (linear and weighted-kNN probes of a frozen
// encoder, a random-init encoder or raw pixels). Shapes follow design/methods/representation.md §1
// and the other gen commands (checkpoint as the argument, as in `gen eval classifier`; --json).
using System.CommandLine;
using System.Globalization;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Gen.Representation;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using Gen.Representation.Probes;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class RepresentationCommands
{
    public static IEnumerable<Command> Create(Func<CliContext> cli) => [Pretrain(cli), Probe(cli)];

    private static Command Pretrain(Func<CliContext> cli)
    {
        var command = new Command("pretrain", "Pretrain an encoder without labels (rotnet, simclr, mocov2, simsiam; supervised = the ceiling) with an online kNN monitor");
        var method = new Option<PretrainMethodKind>("--method", "-m") { Description = "rotnet, simclr, mocov2, simsiam or supervised", DefaultValueFactory = _ => PretrainMethodKind.Simclr };
        var data = new Option<string>("--data", "-d") { Description = "Dataset: fashion-mnist, mnist, cifar10, cifar100 or a folder", DefaultValueFactory = _ => "fashion-mnist" };
        var encoder = new Option<EncoderArch>("--encoder") { Description = "resnet10s (CPU), resnet18 (CIFAR ResNet-18) or nin4 (RotNet's NIN)", DefaultValueFactory = _ => EncoderArch.Resnet10s };
        var hallucinator = new Option<bool>("--hallucinator") { Description = "Add the Hallucinator's extra positives in feature space (simclr, mocov2, simsiam)" };
        var lambdaMax = new Option<double>("--hal-lambda-max") { Description = "Hallucinator step size: λ ~ U(0, this) per step", DefaultValueFactory = _ => HallucinatorConfig.DefaultLambdaMax };
        var temperature = new Option<double?>("--temperature") { Description = "SimCLR / MoCo softmax temperature (default 0.2)" };
        var queue = new Option<int?>("--queue") { Description = "MoCo queue length per view (a multiple of --batch; default 4096, 32768 for resnet18)" };
        var zeroInit = new Option<bool>("--zero-init-residual") { Description = "Start each residual block's last BN at zero" };
        var knnEvery = new Option<double>("--knn-every") { Description = "Epochs between online kNN monitor runs (0 = only at the end)", DefaultValueFactory = _ => 1.0 };
        var knnK = new Option<int>("--knn-k") { Description = "Neighbours of the kNN monitor", DefaultValueFactory = _ => Knn.DefaultK };
        var knnT = new Option<double>("--knn-t") { Description = "Temperature of the kNN monitor", DefaultValueFactory = _ => Knn.DefaultT };
        // The monitor's bank is the first 10 000 train images: with the 10 000 test images that keeps the
        // per-epoch monitor near 5% of a CPU epoch; `gen probe` always uses the whole train set.
        var knnBank = new Option<int>("--knn-bank") { Description = "Train images in the monitor's bank (0 = all)", DefaultValueFactory = _ => 10000 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the resolved options and exit" };
        var train = new TrainOptions("runs/pretrain");
        foreach (Option o in new Option[] { method, data, encoder, hallucinator, lambdaMax, temperature, queue, zeroInit, knnEvery, knnK, knnT, knnBank })
            command.Options.Add(o);
        train.AddTo(command);
        command.Options.Add(json);
        command.Options.Add(dryRun);

        command.SetAction(r =>
        {
            CliContext c = cli();
            PretrainMethodKind m = r.GetValue(method);
            EncoderArch arch = r.GetValue(encoder);
            int batch = r.GetValue(train.Batch) ?? Recipes.Batch(m);
            var p = new PretrainParams
            {
                Method = m,
                Data = r.GetValue(data)!,
                Encoder = arch,
                ZeroInitResidual = r.GetValue(zeroInit),
                Hallucinator = r.GetValue(hallucinator),
                HalLambdaMax = r.GetValue(lambdaMax),
                Temperature = r.GetValue(temperature),
                Queue = r.GetValue(queue),
                Train = train.Build(r, Recipes.Train(m, arch, batch)),
                WarmupEpochs = Recipes.WarmupEpochs(m, arch),
                KnnEvery = r.GetValue(knnEvery),
                KnnK = r.GetValue(knnK),
                KnnT = r.GetValue(knnT),
                KnnBank = r.GetValue(knnBank),
                Resume = r.GetValue(train.Resume),
            };
            if (p.Hallucinator && m is PretrainMethodKind.Rotnet or PretrainMethodKind.Supervised)
                throw new Gen.Pipeline.GenInputException($"--hallucinator works with simclr, mocov2 and simsiam, not {m.ToString().ToLowerInvariant()}");
            string outDir = r.GetValue(train.Out)!;
            if (r.GetValue(dryRun))
            {
                c.Out.WriteLine(Gen.Pipeline.Json.Serialize(new { out_dir = outDir, parameters = p }));
                return ExitCodes.Ok;
            }
            TrainResult result = ProgressView.Run(c, m.ToString().ToLowerInvariant(), progress =>
                new PretrainStage(progress).Run(p, new StageContext { OutputDir = outDir, Cancel = c.Cancel, Log = new Progress<string>(msg => c.Err.WriteLine(msg)) }));
            if (r.GetValue(json))
                c.WriteJson(new { run = outDir, checkpoint = result.LastCheckpoint, step = result.Step, interrupted = result.Interrupted, metrics = result.FinalMetrics, elapsed_s = result.ElapsedSeconds });
            else if (result.Interrupted)
                c.Console.MarkupLine($"[yellow]interrupted[/] at step {result.Step}; checkpoint saved to {Markup.Escape(result.LastCheckpoint)}; continue with --resume");
            else
            {
                string knn = result.FinalMetrics.TryGetValue("knn_top1", out double a) ? (100 * a).ToString("F2", CultureInfo.InvariantCulture) + "%" : "n/a";
                c.Console.MarkupLine($"pretrained {result.Step} steps in {result.ElapsedSeconds:F0} s; kNN top-1 [bold]{knn}[/]; checkpoint {Markup.Escape(result.LastCheckpoint)}; probe it with: gen probe {Markup.Escape(outDir)}");
            }
            return result.Interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return command;
    }

    private static Command Probe(Func<CliContext> cli)
    {
        var command = new Command("probe", "Linear and weighted-kNN probes of a frozen encoder (or of the floors: --random-init, --raw-pixels)");
        var checkpoint = new Argument<string?>("checkpoint") { Description = "A pretrain checkpoint (.safetensors) or its run folder", Arity = ArgumentArity.ZeroOrOne };
        var randomInit = new Option<bool>("--random-init") { Description = "Probe an untrained encoder of --encoder's architecture (floor)" };
        var rawPixels = new Option<bool>("--raw-pixels") { Description = "Probe the raw pixels (floor)" };
        var encoder = new Option<EncoderArch>("--encoder") { Description = "Architecture for --random-init", DefaultValueFactory = _ => EncoderArch.Resnet10s };
        var data = new Option<string?>("--data", "-d") { Description = "Dataset (default: the checkpoint's); its train split fits, its test split scores" };
        var layer = new Option<string?>("--layer") { Description = "Feature layer: pool or blockN (default: pool for ResNets, block2 for nin4)" };
        var linear = new Option<bool>("--linear") { Description = "Run the linear probe (default: both probes)" };
        var knn = new Option<bool>("--knn") { Description = "Run the kNN probe (default: both probes)" };
        var k = new Option<int>("--k") { Description = "kNN neighbours", DefaultValueFactory = _ => Knn.DefaultK };
        var knnT = new Option<double>("--knn-t") { Description = "kNN temperature", DefaultValueFactory = _ => Knn.DefaultT };
        var epochs = new Option<int>("--linear-epochs") { Description = "Linear-probe epochs", DefaultValueFactory = _ => new LinearProbeOptions().Epochs };
        var lr = new Option<double>("--linear-lr") { Description = "Linear-probe learning rate", DefaultValueFactory = _ => new LinearProbeOptions().Lr };
        var wd = new Option<double>("--linear-wd") { Description = "Linear-probe weight decay", DefaultValueFactory = _ => 0.0 };
        var seed = new Option<long>("--seed") { Description = "Seed of the linear probe's order (and of --random-init weights)", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images per feature-extraction batch", DefaultValueFactory = _ => 500 };
        var outDir = new Option<string?>("--out", "-o") { Description = "Folder for probe.json (default: the checkpoint's folder)" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(checkpoint);
        foreach (Option o in new Option[] { randomInit, rawPixels, encoder, data, layer, linear, knn, k, knnT, epochs, lr, wd, seed, threads, batch, outDir, json })
            command.Options.Add(o);

        command.SetAction(r =>
        {
            CliContext c = cli();
            bool wantLinear = r.GetValue(linear), wantKnn = r.GetValue(knn);
            if (!wantLinear && !wantKnn) wantLinear = wantKnn = true;
            var p = new ProbeParams
            {
                Checkpoint = r.GetValue(checkpoint),
                RandomInit = r.GetValue(randomInit),
                RawPixels = r.GetValue(rawPixels),
                Encoder = r.GetValue(encoder),
                Data = r.GetValue(data),
                Layer = r.GetValue(layer),
                Linear = wantLinear,
                Knn = wantKnn,
                K = r.GetValue(k),
                KnnT = r.GetValue(knnT),
                LinearOptions = new LinearProbeOptions { Epochs = r.GetValue(epochs), Lr = r.GetValue(lr), WeightDecay = r.GetValue(wd) },
                Seed = r.GetValue(seed),
                Threads = r.GetValue(threads),
                Batch = r.GetValue(batch),
                Out = r.GetValue(outDir),
            };
            ProbeResult res = new ProbeStage().Run(p, new StageContext { OutputDir = p.Out ?? ".", Cancel = c.Cancel, Log = new Progress<string>(msg => c.Err.WriteLine(msg)) });
            if (r.GetValue(json)) { c.WriteJson(res); return ExitCodes.Ok; }
            Render(c.Console, res);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Pct(double v) => (100 * v).ToString("F2", CultureInfo.InvariantCulture);

    private static void Render(IAnsiConsole console, ProbeResult res)
    {
        string what = res.Source == "checkpoint"
            ? $"{res.Method}{(res.Hallucinator == true ? " + hallucinator" : "")} (seed {res.Seed}, step {res.Step})"
            : res.Source;
        console.MarkupLine($"[bold]{Markup.Escape(what)}[/]: encoder {Markup.Escape(res.Encoder)}, layer {Markup.Escape(res.Layer)} ({res.FeatureDim}-d), data {Markup.Escape(res.Data)}");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("probe");
        table.AddColumn(new TableColumn("top-1 %").RightAligned());
        table.AddColumn(new TableColumn("top-5 %").RightAligned());
        if (res.Linear is { } l) table.AddRow($"linear ({Markup.Escape(l.Protocol)}, {l.Epochs} epochs)", $"[bold]{Pct(l.Top1)}[/]", Pct(l.Top5));
        if (res.Knn is { } k) table.AddRow($"kNN k={k.K} T={k.T.ToString(CultureInfo.InvariantCulture)}", $"[bold]{Pct(k.Top1)}[/]", Pct(k.Top5));
        if (res.KnnAlt is { } a) table.AddRow($"kNN k={a.K} T={a.T.ToString(CultureInfo.InvariantCulture)}", Pct(a.Top1), Pct(a.Top5));
        console.Write(table);
        if (res.Written is not null) console.MarkupLine($"written {Markup.Escape(res.Written)}");
    }
}
