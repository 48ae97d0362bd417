// FID anchors of docs/methods/diffusion.md §4, written as PNG folders for `gen fid … fashion-mnist:test`:
//   train10k: the first 10,000 training images (F_floor: real vs real);
//   up16, up8: the test images after 2×2 average pooling to 16² / 8² (of the −1-padded 32² image, as the
//   cascade sees them) and nearest-neighbour upsampling back (F_up16, F_up8: what the low-resolution
//   stages alone could reach).
// And `plot`: FID against images/s (or 32²-equivalent NFE) from a JSON-lines file of results → PNG.
using System.Text.Json;
using Gen.Generative.Diffusion;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using static TorchSharp.torch;

public static class Anchors
{
    public static void Run(Args o)
    {
        string outDir = o.Str("out", "runs/diff/anchors");
        var train = DatasetCatalog.Load("fashion-mnist", Split.Train);
        var test = DatasetCatalog.Load("fashion-mnist", Split.Test);
        var cfg = new DiffusionConfig { Net = new UNetConfig() };
        WriteFolder(Path.Combine(outDir, "train10k"), train, Enumerable.Range(0, 10_000).ToArray(), x => x);
        int[] all = Enumerable.Range(0, test.Count).ToArray();
        WriteFolder(Path.Combine(outDir, "up16"), test, all, x => Round(x, 1, cfg));
        WriteFolder(Path.Combine(outDir, "up8"), test, all, x => Round(x, 2, cfg));
        Console.WriteLine($"wrote {outDir}/train10k, up16, up8");
    }

    private static Tensor Round(Tensor x01, int octaves, DiffusionConfig c)
    {
        Tensor x = DiffusionMethod.Prepare(x01, c);
        Tensor low = LowDiffCascade.Down(x, octaves);
        for (int i = 0; i < octaves; i++) low = LowDiffCascade.Up(low);
        return low.narrow(2, 2, 28).narrow(3, 2, 28).add(1).div(2);
    }

    private static void WriteFolder(string dir, ImageSet set, int[] idx, Func<Tensor, Tensor> f)
    {
        Directory.CreateDirectory(dir);
        foreach (int[] chunk in idx.Chunk(1000))
        {
            using var scope = NewDisposeScope();
            byte[] u8 = Batches.ToBytes(f(Batches.Float(set, chunk)));
            int per = 28 * 28;
            for (int i = 0; i < chunk.Length; i++)
                ImageCodec.WritePng(Path.Combine(dir, $"{chunk[i]:D6}.png"), u8.AsSpan(i * per, per).ToArray(), 1, 28, 28);
        }
    }
}

public static class PlotResults
{
    /// <summary>JSON lines {"series":…, "x":…, "fid":…} → one line per series.</summary>
    public static void Run(Args o)
    {
        string input = o.Str("in", "bench/diffusion/results/fid_nfe.jsonl"), output = o.Str("out", "bench/diffusion/fid_vs_nfe.png");
        string xKey = o.Str("x", "nfe32"), xLabel = o.Str("xlabel", "32²-equivalent NFE per image");
        var series = new Dictionary<string, List<(double X, double Y)>>();
        foreach (string line in File.ReadLines(input))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            string s = r.GetProperty("series").GetString()!;
            if (!series.TryGetValue(s, out var l)) series[s] = l = [];
            l.Add((r.GetProperty(xKey).GetDouble(), r.GetProperty("fid").GetDouble()));
        }
        Plots.Line(output, o.Str("title", "FD-FMNIST vs sampling cost"), xLabel, "FD-FMNIST (lower is better)",
                   series.Select(kv => (kv.Key, kv.Value.OrderBy(p => p.X).Select(p => p.X).ToArray(), kv.Value.OrderBy(p => p.X).Select(p => p.Y).ToArray())).ToList());
        Console.WriteLine($"wrote {output}");
    }
}
