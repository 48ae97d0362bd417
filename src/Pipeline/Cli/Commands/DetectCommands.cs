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
        detect.Subcommands.Add(Search(cli));
        return detect;
    }

    private static Command Search(Func<CliContext> cli)
    {
        var command = new Command("search", "Gen's topology search for the cifake detector: conv depth x filters, then dense depth x width; every row reported, the best kept");
        var data = new Argument<string>("data") { Description = "A CIFAKE-layout folder (its train split is searched on, with a validation hold-out)" };
        var output = new Option<string>("--out", "-o") { Description = "Folder for search.json, best.safetensors and the candidates' runs", DefaultValueFactory = _ => Path.Combine("runs", "detect-search") };
        var depths = new Option<int[]>("--depths") { Description = "Convolution counts of stage 1", DefaultValueFactory = _ => [1, 2, 3], CustomParser = ParseInts };
        var filters = new Option<int[]>("--filters") { Description = "Filter counts of stage 1", DefaultValueFactory = _ => [16, 32, 64, 128], CustomParser = ParseInts };
        var denseLayers = new Option<int[]>("--dense-layers") { Description = "Dense layer counts of stage 2", DefaultValueFactory = _ => [1, 2, 3], CustomParser = ParseInts };
        var denseWidths = new Option<int[]>("--dense-widths") { Description = "Dense widths of stage 2", DefaultValueFactory = _ => [32, 64, 128, 256, 512, 1024], CustomParser = ParseInts };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs per candidate", DefaultValueFactory = _ => 3 };
        var limit = new Option<int?>("--limit") { Description = "Train each candidate on at most this many images (default: all but the hold-out)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the hold-out and of every candidate", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(data);
        foreach (Option o in new Option[] { output, depths, filters, denseLayers, denseWidths, epochs, limit, seed, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            var p = new DetectSearchParams
            {
                Depths = r.GetValue(depths)!, Filters = r.GetValue(filters)!, DenseLayers = r.GetValue(denseLayers)!, DenseWidths = r.GetValue(denseWidths)!,
                Epochs = r.GetValue(epochs), Limit = r.GetValue(limit), Seed = r.GetValue(seed), Threads = r.GetValue(threads),
            };
            DetectSearchResult res = DetectSearch.Run(r.GetValue(data)!, r.GetValue(output)!, p, new SyncProgress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            if (r.GetValue(json)) { c.WriteJson(res); return ExitCodes.Ok; }
            var table = new Table().Border(TableBorder.Rounded)
                .Title(Markup.Escape($"Gen's search (not the paper's grid): {res.TrainImages} training, {res.ValImages} validation images, {res.Epochs} epochs each"));
            foreach (string h in new[] { "stage", "network", "val accuracy", "parameters", "s/epoch" }) table.AddColumn(h);
            foreach (var row in res.Rows)
                table.AddRow(row.Stage.ToString(CultureInfo.InvariantCulture), Markup.Escape(row.Name) + (row == res.Best ? " [green](best)[/]" : ""),
                    row.Skipped is null ? Pct(row.ValAccuracy) : Markup.Escape($"skipped: {row.Skipped}"),
                    row.Parameters.ToString(CultureInfo.InvariantCulture), double.IsNaN(row.SecondsPerEpoch) ? "-" : row.SecondsPerEpoch.ToString("F1", CultureInfo.InvariantCulture));
            c.Console.Write(table);
            c.Console.MarkupLine(Markup.Escape($"best: {res.Best.Name}, kept as {res.BestCheckpoint}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int[] ParseInts(System.CommandLine.Parsing.ArgumentResult result)
    {
        var values = new List<int>();
        foreach (var token in result.Tokens)
            foreach (string part in token.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v))
                {
                    result.AddError($"'{part}' is not a whole number; pass a list such as 1,2,3");
                    return [];
                }
                values.Add(v);
            }
        return values.ToArray();
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
            p.Validate();   // before any data is read or a checkpoint opened
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
                    ["checkpoint"] = p.Fake,
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
            double[] scores = DetectionMetrics.Scores(classifier, set, cancel: c.Cancel);
            DetectionReport rep = DetectionMetrics.Report(set.Labels.Select(l => l == DetectionData.FakeLabel).ToArray(), scores);
            BuiltSetManifest? manifest = BuiltSetManifest.Open(r.GetValue(data)!);
            var perClass = DetectionMetrics.PerClass(manifest, set, scores, DetectionData.RealLabel);
            var fakePerClass = DetectionMetrics.PerClass(manifest, set, scores, DetectionData.FakeLabel);
            string? fakeClassesBy = fakePerClass.Count > 0 ? "manifest" : null;
            if (fakePerClass.Count == 0 && manifest?.RealSource is { } source)
            {
                // Unconditional fakes carry no class: the dataset's reference classifier gives them one.
                IClassifier? judge = registry.ReferenceClassifier(source);
                try
                {
                    if (judge is not null && DetectionMetrics.FakePerJudgedClass(judge, set, scores, c.Cancel) is { Count: > 0 } judged)
                        (fakePerClass, fakeClassesBy) = (judged, "reference classifier");
                }
                finally { (judge as IDisposable)?.Dispose(); }
            }
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
                    real_per_class = perClass.Select(x => new { @class = x.Class, count = x.Count, accuracy = x.Accuracy }),
                    fake_per_class = fakePerClass.Select(x => new { @class = x.Class, count = x.Count, accuracy = x.Accuracy }),
                    fake_classes_by = fakeClassesBy,
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
            foreach (var (which, rows) in new[] { (DetectionData.Real, perClass), (DetectionData.Fake, fakePerClass) })
            {
                if (rows.Count == 0) continue;
                string title = which == DetectionData.Fake && fakeClassesBy == "reference classifier" ? "FAKE accuracy by judged class" : $"{which} accuracy by class";
                var byClass = new Table().Border(TableBorder.Rounded).Title(title);
                foreach (string h in new[] { "class", "images", "accuracy" }) byClass.AddColumn(h);
                foreach (var x in rows) byClass.AddRow(Markup.Escape(x.Class), x.Count.ToString(CultureInfo.InvariantCulture), Pct(x.Accuracy));
                c.Console.Write(byClass);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Curve(Func<CliContext> cli)
    {
        var command = new Command("detect-curve", "Detectability of a generator's samples at every checkpoint of its run (a fresh detector per checkpoint), beside its FID curve; writes detect_curve.json and detect_curve.png");
        var run = new Argument<string>("run") { Description = "A generator's training run folder (holds checkpoints/)" };
        var real = new Option<string>("--real") { Description = "Held-out real images the generator never saw (the detectors' test REAL images)", DefaultValueFactory = _ => "fashion-mnist:test" };
        var realTrain = new Option<string?>("--real-train") { Description = "Real images the detectors train on (default: the train split of --real)" };
        var n = new Option<int>("--n") { Description = "REAL and FAKE training images each, per checkpoint", DefaultValueFactory = _ => 1000 };
        var nTest = new Option<int>("--n-test") { Description = "REAL and FAKE test images each, per checkpoint", DefaultValueFactory = _ => 500 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs of each detector", DefaultValueFactory = _ => 5 };
        var arch = new Option<string>("--arch") { Description = "Detector architecture: cifake, cifake-wide or resnet-s", DefaultValueFactory = _ => DetectorConfig.Cifake };
        var seed = new Option<long>("--seed") { Description = "Seed of the real-image draw and of each detector", DefaultValueFactory = _ => 0 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(run);
        foreach (Option o in new Option[] { real, realTrain, n, nTest, epochs, arch, seed, threads, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            var p = new DetectCurveParams
            {
                Real = r.GetValue(real)!, RealTrain = r.GetValue(realTrain), N = r.GetValue(n), NTest = r.GetValue(nTest),
                Epochs = r.GetValue(epochs), Arch = r.GetValue(arch)!, Seed = r.GetValue(seed), Threads = r.GetValue(threads),
            };
            DetectCurveResult res = DetectCurve.Run(r.GetValue(run)!, p, new SyncProgress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            if (r.GetValue(json)) { c.WriteJson(res); return ExitCodes.Ok; }
            c.Out.WriteLine($"detector accuracy on samples ({res.Arch}, {res.Epochs} epochs; train {res.N} REAL from {res.RealTrain} + {res.N} FAKE, test {res.NTest} REAL from {res.RealTest} + {res.NTest} FAKE)");
            foreach (var pt in res.Points)
                c.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {pt.Step,10}: accuracy {100 * pt.Accuracy,6:F2}%  ROC-AUC {pt.RocAuc:F4}{(pt.Reused ? "  (cached)" : "")}"));
            c.Out.WriteLine($"wrote {res.Json} and {res.Plot}{(res.WithFid ? " (with the run's FID curve)" : " (run gen fid-curve on the run to add its FID curve)")}");
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
            var model = registry.Open<IConvClassifier>(path, "be explained with Grad-CAM (that needs a convolutional classifier)", gradients: true);
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
