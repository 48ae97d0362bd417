// gen probe: linear and weighted-kNN probes of a frozen encoder (any checkpoint that gives features),
// of a random-init encoder or of raw pixels (docs/methods/representation.md §5). The floors (random
// init, raw pixels) are the Representation project's, so this verb is the one command that names it.
using System.CommandLine;
using System.Globalization;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Gen.Representation;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using Gen.Representation.Probes;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class ProbeCommand
{
    public static Command Probe(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("probe", "Linear and weighted-kNN probes of a frozen encoder (or of the floors: --random-init, --raw-pixels)");
        var checkpoint = new Argument<string?>("checkpoint") { Description = "A pretrain checkpoint (.safetensors), its run folder, or an exported encoder (.onnx)", Arity = ArgumentArity.ZeroOrOne };
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
        var engine = new EngineOptions(command);

        command.SetAction(r =>
        {
            CliContext c = cli();
            engine.Apply(r, registry, r.GetValue(threads));
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
            ProbeResult res = new ProbeStage(registry).Run(p, new Gen.Pipeline.SyncProgress<string>(msg => c.Err.WriteLine(msg)), c.Cancel);
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
