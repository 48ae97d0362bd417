// gen eval classifier CKPT: test accuracy, confusion matrix, optional captioned prediction grid.
using System.CommandLine;
using System.Globalization;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Stages;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class EvalClassifierCommand
{
    public static Command Create(Func<CliContext> cli)
    {
        var command = new Command("classifier", "Evaluate a classifier checkpoint: accuracy and confusion matrix");
        var checkpoint = new Argument<string>("checkpoint") { Description = "A classifier checkpoint (.safetensors) or its run folder" };
        var data = new Option<string?>("--data", "-d") { Description = "Evaluation data (default: the test split of the training data)" };
        var batch = new Option<int>("--batch") { Description = "Images per evaluation batch", DefaultValueFactory = _ => 500 };
        var grid = new Option<string?>("--grid") { Description = "Write a PNG grid of the first --n images captioned with predictions (green right, red wrong)" };
        var n = new Option<int>("--n") { Description = "Images in the --grid", DefaultValueFactory = _ => 64 };
        var threads = new Option<int>("--threads") { Description = "libtorch intra-op threads (0 = default)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(checkpoint);
        foreach (Option o in new Option[] { data, batch, grid, n, threads, json }) command.Options.Add(o);

        command.SetAction(r =>
        {
            CliContext c = cli();
            var p = new EvalClassifierParams
            {
                Checkpoint = r.GetValue(checkpoint)!,
                Data = r.GetValue(data),
                Batch = r.GetValue(batch),
                GridPath = r.GetValue(grid),
                GridCount = r.GetValue(n),
                Threads = r.GetValue(threads),
            };
            EvalClassifierResult res = new EvalClassifierStage().Run(p, new StageContext { OutputDir = ".", Cancel = c.Cancel });
            if (r.GetValue(json)) { c.WriteJson(ToJson(res)); return ExitCodes.Ok; }
            Render(c.Console, res);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static object ToJson(EvalClassifierResult res)
    {
        int k = res.Report.Confusion.GetLength(0);
        var rows = Enumerable.Range(0, k).Select(i => Enumerable.Range(0, k).Select(j => res.Report.Confusion[i, j]).ToArray()).ToArray();
        return new
        {
            checkpoint = res.Checkpoint,
            data = res.Data,
            step = res.Step,
            count = res.Report.Count,
            accuracy = res.Report.Accuracy,
            per_class_accuracy = res.ClassNames.Select((name, i) => new { @class = name, accuracy = res.Report.PerClassAccuracy().ElementAtOrDefault(i) }),
            class_names = res.ClassNames,
            confusion = rows,
            grid = res.Grid,
        };
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
    }
}
