// `gen detect search DS` (docs/methods/detection.md §3): Gen's own topology search for the cifake family,
// in two stages like CIFAKE's (whose exact grid is not known here, so this one is labelled Gen's):
// first convolution depth × filters with one dense layer of 64, then, for the best convolutions, dense
// depth × width. Every candidate trains for a few epochs on the same hold-out split and is ranked by
// validation accuracy (fewer parameters break ties); every row is reported, and the winner's weights
// are kept as OUT/best.safetensors (kind detector, arch cifake-searched).
using System.Diagnostics;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;

namespace Gen.Representation.Detection;

public sealed record DetectSearchParams
{
    public int[] Depths { get; init; } = [1, 2, 3];
    public int[] Filters { get; init; } = [16, 32, 64, 128];
    public int FirstDense { get; init; } = 64;
    public int[] DenseLayers { get; init; } = [1, 2, 3];
    public int[] DenseWidths { get; init; } = [32, 64, 128, 256, 512, 1024];
    public int Epochs { get; init; } = 3;
    public double ValFrac { get; init; } = 0.1;
    public int? Limit { get; init; }
    public long Seed { get; init; }
    public int Threads { get; init; }

    public void Validate()
    {
        if (Depths.Length == 0 || Depths.Any(d => d < 1)) throw new GenInputException("--depths takes one or more positive counts, e.g. 1,2,3");
        if (Filters.Length == 0 || Filters.Any(f => f < 1)) throw new GenInputException("--filters takes one or more positive counts, e.g. 16,32,64,128");
        if (DenseLayers.Any(d => d < 1) || DenseWidths.Any(w => w < 1)) throw new GenInputException("--dense-layers and --dense-widths take positive counts");
        if (FirstDense < 1) throw new GenInputException("the first stage's dense width must be positive");
        if (Epochs < 1) throw new GenInputException($"--epochs must be at least 1, got {Epochs}");
        if (!(ValFrac > 0 && ValFrac < 1)) throw new GenInputException($"--val-frac must be in (0, 1), got {ValFrac}");
        if (Limit is < 2) throw new GenInputException($"--limit must be at least 2, got {Limit}");
    }
}

public sealed record SearchRow(int Stage, int[] Convs, int[] Dense, double ValAccuracy, long Parameters, double SecondsPerEpoch, string? Skipped)
{
    public string Name => $"conv {string.Join("-", Convs)} / dense {string.Join("-", Dense)}";
}

public sealed record DetectSearchResult(string Data, int TrainImages, int ValImages, int Epochs, IReadOnlyList<SearchRow> Rows, SearchRow Best, string BestCheckpoint);

public static class DetectSearch
{
    public static DetectSearchResult Run(string data, string outDir, DetectSearchParams p, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        p.Validate();
        ImageSet all = DetectionData.Load(data, Split.Train, log);
        var (fit, val) = DetectorTraining.Holdout(all, p.ValFrac, p.Seed);
        if (p.Limit is int limit && limit < fit.Count)
            fit = fit.Select(Enumerable.Range(0, fit.Count).OrderBy(i => (i * 2654435761L) % fit.Count).Take(limit).Order().ToArray(), fit.Name);
        if (val.Count == 0) throw new GenInputException($"'{all.Name}' leaves no validation images; use more images or a larger --val-frac");
        Directory.CreateDirectory(outDir);
        var rows = new List<SearchRow>();
        string? bestFile = null;
        SearchRow? best = null;

        SearchRow Try(int stage, int[] convs, int[] dense)
        {
            cancel.ThrowIfCancellationRequested();
            var config = DetectorConfig.For(DetectorConfig.Cifake, all.Channels, all.Height, data) with { Arch = DetectorConfig.Searched, Convs = convs, Dense = dense };
            var shape = new SearchRow(stage, convs, dense, double.NaN, 0, double.NaN, null);
            if (config.FlatSide < 1) return Add(shape with { Skipped = $"{all.Height} px is too small for {convs.Length} unpadded convolutions" });
            string dir = Path.Combine(outDir, "runs", $"{rows.Count:D2}-conv{string.Join("-", convs)}-dense{string.Join("-", dense)}");
            var clock = Stopwatch.StartNew();
            using var method = DetectorTraining.TrainFresh(config, fit, p.Epochs, p.Seed, p.Threads, dir, cancel);
            double perEpoch = clock.Elapsed.TotalSeconds / p.Epochs;
            double acc = DetectionMetrics.Evaluate(new DetectorModel(method.Network, config, dir, 0, owns: false), val, cancel).Accuracy;
            long parameters = method.Network.parameters().Sum(t => t.numel());
            var row = Add(shape with { ValAccuracy = acc, Parameters = parameters, SecondsPerEpoch = perEpoch });
            log?.Report($"stage {stage}: {row.Name}: validation accuracy {acc:P2}, {parameters} parameters, {perEpoch:F1} s/epoch");
            if (best is null || acc > best.ValAccuracy || (acc == best.ValAccuracy && parameters < best.Parameters))
            {
                best = row;
                bestFile = Path.Combine(outDir, Checkpoint.BestFile);
                Checkpoint.Save(bestFile, method.Network, DetectorModel.KindName, Json.Serialize(config, indented: false), 0,
                    new Dictionary<string, string> { ["gen.val_acc"] = acc.ToString("R", System.Globalization.CultureInfo.InvariantCulture), ["gen.search"] = row.Name });
            }
            return row;
        }

        SearchRow Add(SearchRow r) { rows.Add(r); return r; }

        foreach (int depth in p.Depths)
            foreach (int f in p.Filters)
                Try(1, Enumerable.Repeat(f, depth).ToArray(), [p.FirstDense]);
        SearchRow stage1 = rows.Where(r => r.Skipped is null).OrderByDescending(r => r.ValAccuracy).ThenBy(r => r.Parameters).FirstOrDefault()
            ?? throw new GenInputException($"no candidate of the first stage fits {all.Width}x{all.Height} images; use fewer --depths");
        foreach (int layers in p.DenseLayers)
            foreach (int w in p.DenseWidths)
                Try(2, stage1.Convs, Enumerable.Repeat(w, layers).ToArray());
        var result = new DetectSearchResult(all.Name, fit.Count, val.Count, p.Epochs, rows, best!, bestFile!);
        AtomicFile.WriteAllText(Path.Combine(outDir, "search.json"), Json.Serialize(result));
        return result;
    }
}
