// The Fashion-MNIST extractor: trained through the foundation's Trainer, exported, reloaded by hash; the
// bundled copy loads offline with its pinned SHA-256 and its test-split statistics.
using Gen.Metrics.Features;
using Gen.Metrics.Fmnist;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class FmnistTests
{
    [Fact]
    public void Bundled_LoadsWithPinnedHash_AndItsTestStatistics()
    {
        Assert.True(FmnistExtractor.HasBundled, "assets/metrics/fmnist_extractor.safetensors must be embedded");
        using var e = FmnistExtractor.Bundled();
        Assert.Equal(FmnistExtractor.BundledSha256, e.Info.WeightsSha256);
        Assert.True(e.Info.StandardWeights);
        Assert.Equal("FD-FMNIST", e.Info.FrechetLabel);
        GaussianStats s = FmnistExtractor.BundledTestStats();
        Assert.Equal(128, s.Dims);
        Assert.True(Math.Abs(Frechet.Distance(s, s).Distance) < 1e-6);
        using var images = zeros([2, 1, 28, 28], ScalarType.Byte);
        using var f = e.Features(images);
        Assert.Equal([2L, 128L], f.shape);
    }

    [Fact]
    public void TrainedThroughTrainer_ExportsAndReloadsByHash()
    {
        using var tmp = new TempDir();
        string data = SyntheticIdx.Write(tmp.File("data"));
        var config = FmnistExtractorTraining.Recipe with { Steps = 60, Epochs = 0, Batch = 32 };
        TrainResult r = FmnistExtractorTraining.Train(data, config, tmp.File("run"), null, default);
        Assert.Equal(60, r.Step);
        Assert.True(r.FinalMetrics["test_acc"] > 0.25, $"accuracy {r.FinalMetrics["test_acc"]} after 60 steps (chance: 0.1)");
        var record = FmnistExtractorTraining.Export(tmp.File("run"), tmp.File("assets"), data);
        string weights = tmp.File(Path.Combine("assets", FmnistExtractor.WeightsFile));
        string sha = record["weights_sha256"]!.GetValue<string>();
        using var e = FmnistExtractor.FromFile(weights, sha);
        Assert.Equal(sha, e.Info.WeightsSha256);
        Assert.False(e.Info.StandardWeights);
        Assert.Throws<GenInputException>(() => FmnistExtractor.FromFile(weights, new string('0', 64)));
        GaussianStats stats = GaussianStats.Load(tmp.File(Path.Combine("assets", FmnistExtractor.TestStatsFile)));
        Assert.Equal(128, stats.Dims);
        Assert.Equal(160, record["stats_n"]!.GetValue<int>());
    }

    [Fact]
    public void FolderAgainstFashionMnistTest_UsesBundledStatistics_AndLabelsFdFmnist()
    {
        using var tmp = new TempDir();
        string folder = tmp.File("samples");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 12; i++)
        {
            var px = Formula.Images((ulong)i + 10, 1, 3, 32, 32);   // colour 32×32: converted and resized, and said so
            ImageCodec.WritePng(Path.Combine(folder, $"{i:D3}.png"), px, 3, 32, 32);
        }
        var notes = new List<string>();
        var jobs = new MetricJobs(new ExtractorOptions { Kind = ExtractorKind.Fmnist, Batch = 5 },
                                  new SyncProgress(p => { if (p.Message is not null) notes.Add(p.Message); }));
        FidResult r = jobs.Fid(folder, "fashion-mnist:test", null, null, 0);
        Assert.Equal("FD-FMNIST", r.Metric);
        Assert.Equal("bundled-stats", r.B.Kind);
        Assert.Equal(10_000, r.B.N);
        Assert.Equal(12, r.A.N);
        Assert.Equal(FmnistExtractor.BundledSha256, r.Extractor!.WeightsSha256);
        Assert.True(r.Value > 0);
        Assert.Contains(r.Warnings, w => w.Contains("rank-deficient", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.Contains("converted to grey", StringComparison.Ordinal) && n.Contains("resized", StringComparison.Ordinal));
        // Inception Score needs the Inception's classes.
        Assert.Throws<GenInputException>(() => jobs.InceptionScoreOf(folder, null, 0, 10));
    }

    private sealed class SyncProgress(Action<MetricProgress> a) : IProgress<MetricProgress>
    {
        public void Report(MetricProgress value) => a(value);
    }
}

/// <summary>The bundled extractor on ONNX Runtime (docs/deploy.md §7): the same features to float32
/// rounding, and FD-FMNIST within 1e-3 relative of TorchSharp's on 1,000 images.</summary>
public sealed class FmnistOnnxTests
{
    [Fact]
    public void OnnxFeatures_MatchTorch_AndFdWithinOnePerMille()
    {
        using var torch = FmnistExtractor.Bundled();
        using var onnx = torch.OnOnnx(new Gen.Pipeline.Onnx.InferenceSettings("onnx", "cpu"));
        Assert.Equal(torch.Info with { Engine = "onnx cpu" }, onnx.Info);   // the same extractor identity: statistics from either engine compare

        var set = Gen.Pipeline.Data.DatasetCatalog.Load("fashion-mnist:train", Gen.Pipeline.Data.Split.Train).Take(1000);
        var source = new Gen.Metrics.Sources.ImageSetSource(set);
        using Tensor ft = FeatureRunner.Collect(torch, source, 250), fo = FeatureRunner.Collect(onnx, source, 250);
        double rel = fo.sub(ft).abs().max().item<float>() / ft.abs().max().item<float>();
        Assert.True(rel <= 1e-5, $"feature relative error {rel:G3}");

        GaussianStats test = FmnistExtractor.BundledTestStats();
        double fdTorch = Frechet.Distance(FeatureRunner.Stats(torch, source, 250), test).Distance;
        double fdOnnx = Frechet.Distance(FeatureRunner.Stats(onnx, source, 250), test).Distance;
        Assert.True(Math.Abs(fdOnnx - fdTorch) <= 1e-3 * fdTorch, $"FD-FMNIST torch {fdTorch:G6} vs onnx {fdOnnx:G6}");

        // Colour input of another size goes through the same C# preprocessing on both engines.
        using var rgb = randint(0, 256, [3, 3, 32, 32], ScalarType.Byte, generator: new Generator(4));
        using Tensor a = torch.Features(rgb), b = onnx.Features(rgb);
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-5));
    }
}
