// gen eval classifier CKPT (accuracy, confusion matrix, prediction grid) and gen classify CKPT INPUT
// (label, probability per image) for any checkpoint that classifies (IClassifier).
using System.CommandLine;
using System.Globalization;
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Spectre.Console;
using static TorchSharp.torch;

namespace Gen.Cli.Commands;

public static class ClassifierCommands
{
    public static Command Eval(MethodRegistry registry, Func<CliContext> cli)
    {
        var eval = new Command("eval", "Evaluate a trained model");
        var command = new Command("classifier", "Evaluate a classifier checkpoint (any kind that classifies): accuracy and confusion matrix");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A classifier checkpoint (.safetensors) or its run folder" };
        command.Arguments.Add(checkpoint);
        var options = new ParamOptions(ParamSchema.Of<EvalClassifierParams>().Specs, command);
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Options.Add(threads);
        command.Options.Add(json);
        var engine = new EngineOptions(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var p = ParamSchema.Of<EvalClassifierParams>().Bind(new EvalClassifierParams(), options.Given(r), "gen eval classifier");
            Denormals.Configure(r.GetValue(threads));
            engine.Apply(r, registry, r.GetValue(threads));
            var res = new EvalClassifierStage(registry).Evaluate(r.GetValue(checkpoint)!, p, new SyncProgress<string>(m => c.Err.WriteLine(m)), c.Cancel);
            if (r.GetValue(json)) { c.WriteJson(EvalClassifierStage.ToJson(res)); return ExitCodes.Ok; }
            Render(c.Console, res);
            return ExitCodes.Ok;
        });
        eval.Subcommands.Add(command);
        return eval;
    }

    private static void Render(IAnsiConsole console, EvalClassifierResult res)
    {
        var r = res.Report;
        console.MarkupLine($"[bold]{Markup.Escape(res.Data)}[/]: {r.Count} images, accuracy [bold]{(100 * r.Accuracy).ToString("F2", CultureInfo.InvariantCulture)}%[/] (checkpoint step {res.Step})");
        int k = r.Confusion.GetLength(0);
        var table = new Table().Border(TableBorder.Rounded).Title("confusion matrix (rows: true class, columns: predicted)");
        table.AddColumn("true \\ pred");
        for (int j = 0; j < k; j++) table.AddColumn(new TableColumn(j.ToString(CultureInfo.InvariantCulture)).RightAligned());
        table.AddColumn(new TableColumn("acc").RightAligned());
        double[] per = r.PerClassAccuracy();
        for (int i = 0; i < k; i++)
        {
            var cells = new List<string> { Markup.Escape($"{i} {res.ClassNames.ElementAtOrDefault(i)}") };
            for (int j = 0; j < k; j++)
            {
                string v = r.Confusion[i, j].ToString(CultureInfo.InvariantCulture);
                cells.Add(i == j ? $"[green]{v}[/]" : r.Confusion[i, j] == 0 ? $"[grey]{v}[/]" : v);
            }
            cells.Add((100 * per[i]).ToString("F1", CultureInfo.InvariantCulture));
            table.AddRow(cells.ToArray());
        }
        console.Write(table);
        if (res.Grid is not null) console.MarkupLine($"prediction grid: {Markup.Escape(res.Grid)}");
        if (res.Note.Length > 0) console.MarkupLine(Markup.Escape(res.Note));
    }

    public static Command Robust(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("robust", "PGD robustness of any checkpoint that classifies: clean and robust accuracy, optionally beside a baseline");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A classifier checkpoint or run folder" };
        command.Arguments.Add(checkpoint);
        var options = new ParamOptions(ParamSchema.Of<RobustParams>().Specs, command);
        var baseline = new Option<string?>("--baseline") { Description = "A second classifier evaluated under the same attacks, printed side by side" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        foreach (Option o in new Option[] { baseline, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            var p = ParamSchema.Of<RobustParams>().Bind(new RobustParams(), options.Given(r), "gen robust");
            Denormals.Configure(p.Threads);
            var log = new SyncProgress<string>(m => c.Err.WriteLine(m));
            var results = new RobustStage(registry).Evaluate(r.GetValue(checkpoint)!, r.GetValue(baseline), p, log, c.Cancel);
            if (r.GetValue(json)) { c.WriteJson(RobustStage.ToJson(results)); return ExitCodes.Ok; }
            var table = new Table().Border(TableBorder.Rounded)
                .Title(Markup.Escape($"{results[0].Data}, first {results[0].Report.Count} images, PGD-{p.Steps}" + (p.Restarts > 1 ? $" × {p.Restarts} restarts" : "")));
            table.AddColumn("accuracy");
            foreach (var res in results) table.AddColumn(new TableColumn(Markup.Escape(res.Model)).RightAligned());
            if (results.Count == 2) table.AddColumn(new TableColumn("difference").RightAligned());
            string Pct(double v) => (100 * v).ToString("F1", CultureInfo.InvariantCulture);
            string Diff(double a, double b2) => (a >= b2 ? "+" : "") + (100 * (a - b2)).ToString("F1", CultureInfo.InvariantCulture);
            var clean = new List<string> { "clean" };
            clean.AddRange(results.Select(x => Pct(x.Report.CleanAccuracy)));
            if (results.Count == 2) clean.Add(Diff(results[0].Report.CleanAccuracy, results[1].Report.CleanAccuracy));
            table.AddRow(clean.ToArray());
            for (int k = 0; k < results[0].Report.Rows.Count; k++)
            {
                var row0 = results[0].Report.Rows[k];
                var cells = new List<string> { Markup.Escape($"{(row0.Threat == "l2" ? "L2" : "L∞")} ε = {row0.Eps.ToString("G3", CultureInfo.InvariantCulture)}") };
                cells.AddRange(results.Select(x => Pct(x.Report.Rows[k].Accuracy)));
                if (results.Count == 2) cells.Add(Diff(results[0].Report.Rows[k].Accuracy, results[1].Report.Rows[k].Accuracy));
                table.AddRow(cells.ToArray());
            }
            c.Console.Write(table);
            foreach (var res in results) c.Console.MarkupLine(Markup.Escape($"{res.Model}: {res.Checkpoint}"));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Classify(MethodRegistry registry, Func<CliContext> cli)
    {
        var command = new Command("classify", "Label images with any checkpoint that classifies (or an exported .onnx classifier): class, probability and energy per image");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A classifier checkpoint or run folder" };
        var input = new Argument<string>("images") { Description = "An image file, a folder of images, or a dataset (fashion-mnist:test)" };
        var n = new Option<int?>("--n") { Description = "Only the first N images" };
        var priorStd = new Option<double?>("--prior-std") { Description = "Batch-relative classifiers (lzn): std of each latent's start noise (default 0, deterministic)" };
        var batch = new Option<int?>("--batch") { Description = "Batch-relative classifiers (lzn): images classified together (default: the training batch size)" };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(checkpoint);
        command.Arguments.Add(input);
        foreach (Option o in new Option[] { n, priorStd, batch, threads, json }) command.Options.Add(o);
        var engine = new EngineOptions(command);
        command.SetAction(r =>
        {
            CliContext c = cli();
            Denormals.Configure(r.GetValue(threads));
            engine.Apply(r, registry, r.GetValue(threads));
            var classifier = registry.Open<IClassifier>(r.GetValue(checkpoint)!, "classify images");
            using var model = (IModel)classifier;
            string note = BatchRelative(classifier, r.GetValue(priorStd), r.GetValue(batch));
            ImageSet data = DatasetCatalog.Load(r.GetValue(input)!, Split.Test, new SyncProgress<string>(m => c.Err.WriteLine(m)));
            if (r.GetValue(n) is { } take)
            {
                if (take <= 0) throw new GenInputException($"--n must be positive, got {take}");
                data = data.Take(Math.Min(take, data.Count));
            }
            ClassifierEval.CheckCompatible(classifier, data);
            ClassifierReport report = ClassifierEval.Evaluate(classifier, data, cancel: c.Cancel);
            var rows = Enumerable.Range(0, data.Count).Select(i => new
            {
                index = i,
                label = report.Predictions[i],
                @class = classifier.ClassNames.ElementAtOrDefault(report.Predictions[i]) ?? report.Predictions[i].ToString(CultureInfo.InvariantCulture),
                probability = report.Confidence[i],
                energy = report.Energy[i],
                truth = data.Labels[i] >= 0 ? data.Labels[i] : (int?)null,
            }).ToList();
            if (r.GetValue(json))
            {
                c.WriteJson(new { checkpoint = r.GetValue(checkpoint), model = model.Description, data = data.Name, note = note.Length > 0 ? note : null, accuracy = report.Count > 0 ? report.Accuracy : (double?)null, images = rows });
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded);
            foreach (string h in new[] { "#", "class", "p", "energy", "truth" }) table.AddColumn(h);
            foreach (var row in rows.Take(200))
                table.AddRow(row.index.ToString(CultureInfo.InvariantCulture), Markup.Escape($"{row.label} {row.@class}"),
                             row.probability.ToString("F3", CultureInfo.InvariantCulture), row.energy.ToString("F3", CultureInfo.InvariantCulture), row.truth?.ToString(CultureInfo.InvariantCulture) ?? "");
            c.Console.Write(table);
            if (rows.Count > 200) c.Console.MarkupLine($"… {rows.Count - 200} more (use --json for all)");
            if (report.Count > 0) c.Console.MarkupLine($"accuracy on the {report.Count} labelled images: {(100 * report.Accuracy).ToString("F2", CultureInfo.InvariantCulture)}%");
            if (note.Length > 0) c.Console.MarkupLine(Markup.Escape(note));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Applies --prior-std and --batch to a batch-relative classifier (refused for any other) and returns its note.</summary>
    private static string BatchRelative(IClassifier classifier, double? priorStd, int? batch)
    {
        if (classifier is not IBatchRelativeClassifier r)
        {
            if (priorStd is not null || batch is not null)
                throw new GenInputException("--prior-std and --batch apply to batch-relative classifiers (lzn) only; this checkpoint classifies each image on its own: drop them");
            return "";
        }
        if (priorStd is { } s) r.PriorStd = s;
        if (batch is { } b) r.ClassifyBatch = b;
        return r.Note;
    }
}
