// gen detect build-dataset | eval (docs/methods/detection.md) and gen explain (Grad-CAM for any
// convolutional classifier). The work lives in Gen.Representation.Detection and
// Gen.Pipeline.Classifier.Explainer; these commands bind options and print.
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Representation.Detection;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class DetectCommands
{
    public static Command Detect(MethodRegistry registry, Func<CliContext> cli)
    {
        var detect = new Command("detect", "Real-vs-fake detection (CIFAKE-style): build a dataset from a generator, evaluate a detector");
        detect.Subcommands.Add(BuildDataset(cli));
        detect.Subcommands.Add(Eval(registry, cli));
        return detect;
    }

    private static Command BuildDataset(Func<CliContext> cli)
    {
        var command = new Command("build-dataset", "Write a CIFAKE-layout set (train|test/REAL|FAKE PNGs + manifest.json) from real images and a generator checkpoint or folder");
        var real = new Option<string>("--real") { Description = "Real training images (the generator's own training split)", DefaultValueFactory = _ => "fashion-mnist:train" };
        var realTest = new Option<string?>("--real-test") { Description = "Real test images, a split the generator never saw (default: the test split of --real)" };
        var fake = new Option<string>("--fake") { Description = "A generator checkpoint (file or run folder) or a folder of generated images", Required = true };
        var n = new Option<int>("--n") { Description = "REAL and FAKE training images each", DefaultValueFactory = _ => 10000 };
        var nTest = new Option<int>("--n-test") { Description = "REAL and FAKE test images each", DefaultValueFactory = _ => 2000 };
        var output = new Option<string>("--out", "-o") { Description = "The folder to create (must not exist)", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the draw of real images", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the manifest summary as JSON" };
        foreach (Option o in new Option[] { real, realTest, fake, n, nTest, output, seed, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            var p = new BuildDatasetParams
            {
                Real = r.GetValue(real)!, RealTest = r.GetValue(realTest), Fake = r.GetValue(fake)!,
                N = r.GetValue(n), NTest = r.GetValue(nTest), Out = r.GetValue(output)!, Seed = r.GetValue(seed),
            };
            p.Validate();
            if (Directory.Exists(p.Out) || File.Exists(p.Out))
                throw new GenInputException($"--out '{p.Out}' already exists; choose a new folder or delete it (the builder never writes into an existing one)");
            var log = new SyncProgress<string>(m => c.Err.WriteLine(m));
            ImageSet train = DatasetCatalog.Load(p.Real, Split.Train, log);
            ImageSet test = DatasetCatalog.Load(p.RealTest ?? DatasetCatalog.WithSplit(p.Real, Split.Test), Split.Test, log);
            JsonObject summary;
            if (Directory.Exists(p.Fake))
                summary = DatasetBuilder.Build(p, train, test, FakeSource.Folder(p.Fake), log, c.Cancel);
            else
            {
                string file = Checkpoint.ResolvePath(p.Fake);
                using var sampler = ImageGenerators.Open(file);
                var describe = new JsonObject
                {
                    ["checkpoint"] = Path.GetFullPath(file),
                    ["checkpoint_sha256"] = Downloader.Sha256File(file),
                    ["model"] = sampler.Description,
                };
                summary = DatasetBuilder.Build(p, train, test, FakeSource.Generator(sampler, describe), log, c.Cancel);
                summary["fake"]!.AsObject()["sampler"] = sampler.LastRun.DeepClone();
            }
            if (r.GetValue(json)) { c.WriteJson(summary); return ExitCodes.Ok; }
            c.Console.MarkupLine(Markup.Escape($"wrote {Path.GetFullPath(p.Out)}: train {p.N} REAL + {p.N} FAKE, test {p.NTest} REAL + {p.NTest} FAKE (manifest.json)"));
            var table = new Table().Border(TableBorder.Rounded).Title("cheap cues (pixel values 0-255)");
            foreach (string h in new[] { "split", "class", "mean", "std", "exact 0", "exact 255" }) table.AddColumn(h);
            foreach (var (split, node) in summary["cues"]!.AsObject())
                foreach (var (label, cue) in node!.AsObject())
                    table.AddRow(split, label, F(cue!["mean"]), F(cue["std"]), Pct(cue["zero_fraction"]), Pct(cue["full_fraction"]));
            c.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Eval(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("eval", "Evaluate a detector on a REAL/FAKE set: accuracy, precision, recall, F1 (FAKE positive), confusion matrix, ROC-AUC");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A detector checkpoint, its run folder (best epoch) or its ONNX export" };
        var data = new Argument<string>("data") { Description = "A CIFAKE-layout folder (train|test/REAL|FAKE; its test split unless :train is added), e.g. one from gen detect build-dataset or a CIFAKE copy" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(checkpoint);
        command.Arguments.Add(data);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            string path = r.GetValue(checkpoint)!;
            var classifier = registry.Open<IClassifier>(path, "classify images");
            using var model = (IModel)classifier;
            ImageSet set = DetectionData.Load(r.GetValue(data)!, Split.Test, new SyncProgress<string>(m => c.Err.WriteLine(m)));
            DetectionReport rep = DetectionMetrics.Evaluate(classifier, set, c.Cancel);
            string file = Gen.Pipeline.Onnx.OnnxModels.IsOnnxPath(path) ? path : Checkpoint.ResolvePath(path);
            if (r.GetValue(json))
            {
                c.WriteJson(new
                {
                    checkpoint = file, model = model.Description, data = set.Name, count = rep.Count,
                    accuracy = rep.Accuracy, precision = rep.Precision, recall = rep.Recall, f1 = rep.F1, roc_auc = rep.RocAuc,
                    real_accuracy = rep.RealAccuracy, fake_accuracy = rep.FakeAccuracy,
                    confusion = new { tp = rep.TruePositive, fp = rep.FalsePositive, fn = rep.FalseNegative, tn = rep.TrueNegative },
                    positive = DetectionData.Fake, threshold = 0.5,
                });
                return ExitCodes.Ok;
            }
            c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{set.Name}: {rep.Count} images, {model.Description} ({file})")));
            c.Console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"accuracy {100 * rep.Accuracy:F2}%  precision {N4(rep.Precision)}  recall {N4(rep.Recall)}  F1 {N4(rep.F1)}  ROC-AUC {N4(rep.RocAuc)}  (FAKE positive, p(fake) >= 0.5)")));
            var table = new Table().Border(TableBorder.Rounded).Title("confusion matrix");
            foreach (string h in new[] { "true \\ predicted", "REAL", "FAKE", "accuracy" }) table.AddColumn(h);
            table.AddRow("REAL", rep.TrueNegative.ToString(CultureInfo.InvariantCulture), rep.FalsePositive.ToString(CultureInfo.InvariantCulture), Pct(rep.RealAccuracy));
            table.AddRow("FAKE", rep.FalseNegative.ToString(CultureInfo.InvariantCulture), rep.TruePositive.ToString(CultureInfo.InvariantCulture), Pct(rep.FakeAccuracy));
            c.Console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Explain(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("explain", "Grad-CAM of any convolutional classifier (detector, classifier, energy model): input | heat map | overlay per image, a grid and explain.json");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A classifier checkpoint or run folder of a convolutional kind" };
        var images = new Argument<string[]>("images") { Description = "Image files, folders of images, or datasets (e.g. fashion-mnist:test, DS/test)", Arity = ArgumentArity.OneOrMore };
        var output = new Option<string>("--out", "-o") { Description = "Folder for the strips, grid.png and explain.json", Required = true };
        var target = new Option<string>("--target") { Description = "Class to explain: pred (the predicted class), a class name (fake, real, …) or index", DefaultValueFactory = _ => "pred" };
        var alpha = new Option<double>("--alpha") { Description = "Overlay weight of the heat map", DefaultValueFactory = _ => 0.5 };
        var scale = new Option<int>("--scale") { Description = "Enlargement of the strips (nearest neighbour)", DefaultValueFactory = _ => 8 };
        var n = new Option<int>("--n") { Description = "Images taken from each folder or dataset", DefaultValueFactory = _ => 16 };
        var columns = new Option<int>("--columns") { Description = "Strips per row of grid.png", DefaultValueFactory = _ => 2 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print explain.json" };
        command.Arguments.Add(checkpoint);
        command.Arguments.Add(images);
        foreach (Option o in new Option[] { output, target, alpha, scale, n, columns, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            var p = new ExplainParams { Target = r.GetValue(target)!, Alpha = r.GetValue(alpha), Scale = r.GetValue(scale), PerSource = r.GetValue(n), Columns = r.GetValue(columns) };
            p.Validate();
            string path = r.GetValue(checkpoint)!;
            if (Gen.Pipeline.Onnx.OnnxModels.IsOnnxPath(path))
                throw new GenInputException($"'{path}' is an ONNX model; Grad-CAM needs gradients, so pass the checkpoint it was exported from");
            var model = registry.Open<IConvClassifier>(path, "be explained with Grad-CAM (that needs a convolutional classifier)");
            using var opened = (IModel)model;
            var inputs = Explainer.Gather(r.GetValue(images)!, p.PerSource, new SyncProgress<string>(m => c.Err.WriteLine(m)));
            var maps = Explainer.Run(model, inputs, p.Target);
            string file = Checkpoint.ResolvePath(path);
            var items = Explainer.Write(model, maps, r.GetValue(output)!, p, file, opened.Description);
            if (r.GetValue(json)) { c.WriteJson(Explainer.ToJson(model, items, p, file, opened.Description)); return ExitCodes.Ok; }
            var table = new Table().Border(TableBorder.Rounded).Title($"Grad-CAM at {model.CamLayer} of {opened.Description}");
            foreach (string h in new[] { "image", "truth", "predicted", "p", "explained", "peak (row, col)", "file" }) table.AddColumn(h);
            foreach (var it in items)
            {
                int pred = Array.IndexOf(it.Cam.Probabilities, it.Cam.Probabilities.Max());
                var (row, col) = it.Cam.Peak(model.Width);
                table.AddRow(Markup.Escape(it.Input.Name), Markup.Escape(it.Input.Truth ?? ""), Markup.Escape(model.ClassNames.ElementAtOrDefault(pred) ?? ""),
                    it.Cam.Probabilities[pred].ToString("F3", CultureInfo.InvariantCulture), Markup.Escape(model.ClassNames.ElementAtOrDefault(it.Cam.Target) ?? ""),
                    it.Cam.Empty ? "(empty map)" : $"{row}, {col}", Markup.Escape(it.File));
            }
            c.Console.Write(table);
            c.Console.MarkupLine(Markup.Escape($"wrote {items.Count} strips, grid.png and explain.json to {Path.GetFullPath(r.GetValue(output)!)}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string N4(double v) => double.IsNaN(v) ? "-" : v.ToString("F4", CultureInfo.InvariantCulture);
    private static string F(JsonNode? v) => v is null ? "" : v.GetValue<double>().ToString("F2", CultureInfo.InvariantCulture);
    private static string Pct(JsonNode? v) => v is null ? "" : Pct(v.GetValue<double>());
    private static string Pct(double v) => double.IsNaN(v) ? "-" : (100 * v).ToString("F2", CultureInfo.InvariantCulture) + "%";
}
