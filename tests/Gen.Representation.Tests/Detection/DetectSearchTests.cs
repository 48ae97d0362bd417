using Gen.Pipeline;
using Gen.Pipeline.Imaging;
using Gen.Representation.Detection;

namespace Gen.Representation.Tests.Detection;

public sealed class DetectSearchTests
{
    [Fact]
    public void Search_ReportsEveryCandidate_SkipsWhatDoesNotFit_KeepsTheBest()
    {
        using var tmp = new TempDir();
        // 16 px images: noise for REAL, noise with a bright square for FAKE.
        var rng = new Random(4);
        foreach (var (split, n) in new[] { ("train", 120), ("test", 20) })
            foreach (string label in new[] { "REAL", "FAKE" })
            {
                string dir = tmp.File($"ds/{split}/{label}");
                Directory.CreateDirectory(dir);
                for (int i = 0; i < n; i++)
                {
                    var px = new byte[16 * 16];
                    for (int k = 0; k < px.Length; k++) px[k] = (byte)rng.Next(60);
                    if (label == "FAKE") { int y0 = rng.Next(13), x0 = rng.Next(13); for (int y = y0; y < y0 + 4 && y < 16; y++) for (int x = x0; x < x0 + 4 && x < 16; x++) px[y * 16 + x] = 240; }
                    ImageCodec.WritePng(Path.Combine(dir, $"{i:D4}.png"), px, 1, 16, 16);
                }
            }
        var p = new DetectSearchParams { Depths = [1, 3], Filters = [8, 16], DenseLayers = [1, 2], DenseWidths = [16], Epochs = 4, Threads = 1 };
        DetectSearchResult res = DetectSearch.Run(tmp.File("ds"), tmp.File("search"), p);

        // Stage 1: 2 depths × 2 filter counts, of which depth 3 does not fit 16 px; stage 2: 2 dense depths.
        Assert.Equal(6, res.Rows.Count);
        Assert.Equal(2, res.Rows.Count(r => r.Skipped is not null));
        Assert.All(res.Rows.Where(r => r.Stage == 2), r => Assert.Equal(res.Rows.Where(x => x.Stage == 1 && x.Skipped is null).MaxBy(x => x.ValAccuracy)!.Convs, r.Convs));
        Assert.Equal(res.Rows.Where(r => r.Skipped is null).Max(r => r.ValAccuracy), res.Best.ValAccuracy);
        Assert.True(res.Best.ValAccuracy > 0.8, $"best validation accuracy {res.Best.ValAccuracy}");
        Assert.True(File.Exists(tmp.File("search/search.json")));

        using var model = DetectorModel.Load(res.BestCheckpoint);
        Assert.Equal(DetectorConfig.Searched, model.Config.Arch);
        Assert.Equal(res.Best.Convs, model.Config.Convs);
        Assert.Equal(res.Best.Dense, model.Config.Dense);

        var e = Assert.Throws<GenInputException>(() => DetectSearch.Run(tmp.File("ds"), tmp.File("s2"), p with { Depths = [3] }));
        Assert.Contains("fewer --depths", e.Message);
    }
}
