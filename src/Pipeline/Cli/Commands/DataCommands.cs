// gen data info / gen data grid: what a dataset holds. Neither loads libtorch.
using System.CommandLine;
using System.Globalization;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Spectre.Console;

namespace Gen.Cli.Commands;

public static class DataCommands
{
    public static Command Create(Func<CliContext> cli)
    {
        var data = new Command("data", "Inspect datasets");
        data.Subcommands.Add(Info(cli));
        data.Subcommands.Add(GridCommand(cli));
        return data;
    }

    private static Command Info(Func<CliContext> cli)
    {
        var command = new Command("info", "Show what a dataset holds: images, size, channels, classes, pixel statistics");
        var spec = new Argument<string>("dataset") { Description = "fashion-mnist, mnist, cifar10, cifar100 (optionally :train/:test), a folder, or a single IDX/CIFAR file" };
        var split = new Option<Split>("--split") { Description = "Split when the dataset name has none", DefaultValueFactory = _ => Split.Train };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(spec);
        command.Options.Add(split);
        command.Options.Add(json);
        command.SetAction(r =>
        {
            CliContext c = cli();
            ImageSet set = DatasetCatalog.Load(r.GetValue(spec)!, r.GetValue(split), new Progress<string>(m => c.Err.WriteLine(m)));
            var (mean, std) = set.ChannelStats();
            int[] hist = set.ClassHistogram();
            int unlabelled = set.Labels.Count(l => l < 0);
            if (r.GetValue(json))
            {
                c.WriteJson(new
                {
                    name = set.Name,
                    source = set.Source,
                    count = set.Count,
                    channels = set.Channels,
                    height = set.Height,
                    width = set.Width,
                    classes = set.ClassNames.Select((n, i) => new { index = i, name = n, count = hist.ElementAtOrDefault(i) }),
                    unlabelled,
                    mean,
                    std,
                });
                return ExitCodes.Ok;
            }
            var t = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("").AddColumn("");
            t.AddRow("name", Markup.Escape(set.Name));
            t.AddRow("source", Markup.Escape(set.Source));
            t.AddRow("images", set.Count.ToString("N0", CultureInfo.InvariantCulture));
            t.AddRow("shape", $"{set.Channels}×{set.Height}×{set.Width} (C×H×W, uint8)");
            t.AddRow("mean / std", string.Join("  ", mean.Select((m, i) => string.Create(CultureInfo.InvariantCulture, $"{m:F4} / {std[i]:F4}"))));
            if (unlabelled > 0) t.AddRow("unlabelled", unlabelled.ToString(CultureInfo.InvariantCulture));
            c.Console.Write(t);
            if (set.ClassCount > 0)
            {
                var ct = new Table().Border(TableBorder.Rounded).AddColumn("#").AddColumn("class").AddColumn(new TableColumn("images").RightAligned());
                for (int i = 0; i < set.ClassCount; i++)
                    ct.AddRow(i.ToString(CultureInfo.InvariantCulture), Markup.Escape(set.ClassNames[i]), hist[i].ToString("N0", CultureInfo.InvariantCulture));
                c.Console.Write(ct);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command GridCommand(Func<CliContext> cli)
    {
        var command = new Command("grid", "Write a PNG grid of dataset images");
        var spec = new Argument<string>("dataset") { Description = "Dataset name, folder or file" };
        var n = new Option<int>("--n") { Description = "Number of images", DefaultValueFactory = _ => 64 };
        var outPath = new Option<string>("--out", "-o") { Description = "PNG file to write", DefaultValueFactory = _ => "grid.png" };
        var nrow = new Option<int>("--nrow") { Description = "Images per row", DefaultValueFactory = _ => 8 };
        var scale = new Option<int>("--scale") { Description = "Nearest-neighbour upscale factor", DefaultValueFactory = _ => 2 };
        var padding = new Option<int>("--padding") { Description = "Pixels between images", DefaultValueFactory = _ => 2 };
        var split = new Option<Split>("--split") { Description = "Split when the dataset name has none", DefaultValueFactory = _ => Split.Train };
        var shuffle = new Option<long?>("--shuffle") { Description = "Pick random images with this seed instead of the first ones" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        command.Arguments.Add(spec);
        foreach (Option o in new Option[] { n, outPath, nrow, scale, padding, split, shuffle, json }) command.Options.Add(o);
        command.SetAction(r =>
        {
            CliContext c = cli();
            int count = r.GetValue(n);
            if (count <= 0) throw new Gen.Pipeline.GenInputException($"--n must be positive, got {count}");
            if (r.GetValue(nrow) <= 0) throw new Gen.Pipeline.GenInputException($"--nrow must be positive, got {r.GetValue(nrow)}");
            if (r.GetValue(scale) <= 0) throw new Gen.Pipeline.GenInputException($"--scale must be positive, got {r.GetValue(scale)}");
            if (r.GetValue(padding) < 0) throw new Gen.Pipeline.GenInputException($"--padding must be zero or positive, got {r.GetValue(padding)}");
            ImageSet set = DatasetCatalog.Load(r.GetValue(spec)!, r.GetValue(split));
            count = Math.Min(count, set.Count);
            ImageSet pick = r.GetValue(shuffle) is { } seed
                ? set.Select(BatchOrder.Permutation(set.Count, (ulong)seed).Take(count).ToArray())
                : set.Take(count);
            string path = r.GetValue(outPath)!;
            Gen.Pipeline.Imaging.Grid.WritePng(path, pick.Pixels, count, pick.Channels, pick.Height, pick.Width,
                          new GridOptions { NRow = r.GetValue(nrow), Scale = r.GetValue(scale), Padding = r.GetValue(padding) });
            if (r.GetValue(json)) c.WriteJson(new { path, count, data = set.Name });
            else c.Console.MarkupLine($"wrote {count} images of {Markup.Escape(set.Name)} to {Markup.Escape(path)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
