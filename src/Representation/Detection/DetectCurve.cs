// `gen detect-curve RUN` (docs/methods/detection.md §1): how detectable a generator's samples are at
// every checkpoint of its training run. For each snapshot a fresh detector is trained on n real and n
// generated images and tested on held-out ones (real images the generator never saw, fakes from test
// seeds 10⁹…); the real images are the same for every checkpoint, so only the generator changes along
// the curve. A generator that approaches the data drives the accuracy toward 50 %. Results go to
// RUN/detect_curve.json after every point (an interrupted run keeps what it finished; a point is reused
// when its key matches) and RUN/detect_curve.png, with the run's FID curve (fid_curve.json, written by
// `gen fid-curve`) on a second axis when there is one.
using System.Text.Json;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;

namespace Gen.Representation.Detection;

public sealed record DetectCurveParams
{
    public string Real { get; init; } = "fashion-mnist:test";
    public string? RealTrain { get; init; }
    public int N { get; init; } = 1000;
    public int NTest { get; init; } = 500;
    public int Epochs { get; init; } = 5;
    public string Arch { get; init; } = DetectorConfig.Cifake;
    public long Seed { get; init; }
    public int Threads { get; init; }

    public void Validate()
    {
        if (N < 2) throw new GenInputException($"--n must be at least 2, got {N}");
        if (NTest < 1) throw new GenInputException($"--n-test must be at least 1, got {NTest}");
        if (Epochs < 1) throw new GenInputException($"--epochs must be at least 1, got {Epochs}");
        if (!DetectorConfig.Archs.Contains(Arch)) throw new GenInputException($"--arch '{Arch}' is not a detector architecture; use one of {string.Join(", ", DetectorConfig.Archs)}");
        if (Threads < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {Threads}");
    }
}

public sealed record DetectCurvePoint(long Step, string Checkpoint, string Sha256, double Accuracy, double RocAuc, double ElapsedS, bool Reused);

public sealed record DetectCurveResult(string Run, string Arch, int N, int NTest, int Epochs, long Seed, string RealTrain, string RealTest,
                                       IReadOnlyList<DetectCurvePoint> Points, string Json, string Plot, bool WithFid);

public static class DetectCurve
{
    public const string JsonFile = "detect_curve.json";
    public const string PlotFile = "detect_curve.png";
    public const string WorkDir = "detect_curve";
    public const string FidCurveFile = "fid_curve.json";

    public static DetectCurveResult Run(string runDir, DetectCurveParams p, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        p.Validate();
        if (!Directory.Exists(runDir)) throw new GenInputException($"run folder '{runDir}' does not exist; pass the --out folder of a generator's training run");
        string snapshots = Path.Combine(runDir, Trainer.SnapshotDir);
        string[] files = Directory.Exists(snapshots) ? Directory.GetFiles(snapshots, "*.safetensors").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0)
            throw new GenInputException($"'{runDir}' has no checkpoints in {Trainer.SnapshotDir}/; train the generator with --checkpoint-every to keep snapshots");

        ImageSet realTest = DatasetCatalog.Load(p.Real, Split.Test, log);
        ImageSet realTrain = DatasetCatalog.Load(p.RealTrain ?? DatasetCatalog.WithSplit(p.Real, Split.Train), Split.Train, log);
        if (p.N > realTrain.Count) throw new GenInputException($"--n {p.N} is more than the {realTrain.Count} images of '{realTrain.Name}'; lower --n");
        if (p.NTest > realTest.Count) throw new GenInputException($"--n-test {p.NTest} is more than the {realTest.Count} images of '{realTest.Name}'; lower --n-test");
        var rng = new Random((int)(p.Seed & 0x7fffffff));
        int[] trainIdx = DetectionData.Permutation(realTrain.Count, rng)[..p.N];
        int[] testIdx = DetectionData.Permutation(realTest.Count, rng)[..p.NTest];

        string jsonPath = Path.Combine(runDir, JsonFile);
        var saved = Json.ReadCache<DetectCurvePoint>(jsonPath);
        var points = new List<DetectCurvePoint>();
        foreach (string file in files)
        {
            cancel.ThrowIfCancellationRequested();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string sha = Downloader.Sha256File(file);
            long step = Checkpoint.ReadInfo(file).Step;
            string key = string.Join("|", sha, p.Arch, p.N, p.NTest, p.Epochs, p.Seed, realTrain.Name, realTest.Name);
            if (saved.TryGetValue(key, out var old))
            {
                points.Add(old with { Reused = true, Checkpoint = file });
                continue;
            }
            log?.Report($"step {step}: sampling {p.N} + {p.NTest} images from {Path.GetFileName(file)}");
            byte[] fakeTrain, fakeTest;
            using (IImageSampler sampler = ImageGenerators.Open(file))
            {
                DatasetBuilder.CheckShape(sampler.Channels, sampler.Height, sampler.Width, realTrain);
                fakeTrain = sampler.SampleUint8(p.N, 0);
                fakeTest = sampler.SampleUint8(p.NTest, FakeSource.TestSeedBase);
            }
            ImageSet train = Mixed(realTrain, trainIdx, fakeTrain, "train");
            ImageSet test = Mixed(realTest, testIdx, fakeTest, "test");
            DetectionReport rep = TrainAndTest(train, test, p, Path.Combine(runDir, WorkDir, $"step-{step:D8}"), cancel);
            var point = new DetectCurvePoint(step, file, sha, rep.Accuracy, rep.RocAuc, clock.Elapsed.TotalSeconds, false);
            saved[key] = point;
            points.Add(point);
            log?.Report($"step {step}: detector accuracy {rep.Accuracy:P2}, ROC-AUC {rep.RocAuc:F4}");
            Write(jsonPath, runDir, p, realTrain.Name, realTest.Name, points, saved);
        }
        Write(jsonPath, runDir, p, realTrain.Name, realTest.Name, points, saved);
        var sorted = points.OrderBy(x => x.Step).ToList();
        var fid = FidPoints(Path.Combine(runDir, FidCurveFile));
        string plot = Path.Combine(runDir, PlotFile);
        Plots.TwoAxes(plot, $"detectability of samples ({p.Arch}, {p.N}+{p.N} train, {p.NTest}+{p.NTest} test)", "step", "detector accuracy / ROC-AUC",
            [("accuracy", sorted.Select(x => (double)x.Step).ToArray(), sorted.Select(x => x.Accuracy).ToArray()),
             ("ROC-AUC", sorted.Select(x => (double)x.Step).ToArray(), sorted.Select(x => x.RocAuc).ToArray())],
            fid is { } f ? (f.Metric, f.Steps, f.Values) : null);
        return new DetectCurveResult(runDir, p.Arch, p.N, p.NTest, p.Epochs, p.Seed, realTrain.Name, realTest.Name, sorted, jsonPath, plot, fid is not null);
    }

    /// <summary>A fresh detector trained on <paramref name="train"/> (REAL = 0, FAKE = 1) in <paramref name="dir"/>, scored on <paramref name="test"/>.</summary>
    public static DetectionReport TrainAndTest(ImageSet train, ImageSet test, DetectCurveParams p, string dir, CancellationToken cancel)
    {
        var config = DetectorConfig.For(p.Arch, train.Channels, train.Height, train.Name);
        config.Validate();
        using var method = DetectorTraining.TrainFresh(config, train, p.Epochs, p.Seed, p.Threads, dir, cancel);
        var model = new DetectorModel(method.Network, config, dir, 0, owns: false);
        return DetectionMetrics.Evaluate(model, test, cancel);
    }

    /// <summary>The chosen real images (REAL = 0) followed by the fakes (FAKE = 1), as one set.</summary>
    private static ImageSet Mixed(ImageSet real, int[] idx, byte[] fakes, string split)
    {
        int per = real.ImageBytes, nFake = fakes.Length / per;
        var px = new byte[(idx.Length + nFake) * per];
        for (int i = 0; i < idx.Length; i++) real.Image(idx[i]).CopyTo(px.AsSpan(i * per, per));
        fakes.CopyTo(px, idx.Length * per);
        int[] labels = [.. Enumerable.Repeat(DetectionData.RealLabel, idx.Length), .. Enumerable.Repeat(DetectionData.FakeLabel, nFake)];
        return new ImageSet($"detect-curve:{split}", px, labels, real.Channels, real.Height, real.Width, DetectionData.ClassNames, real.Source);
    }

    /// <summary>The FID (or FD) curve `gen fid-curve` left in the run folder, if any.</summary>
    private static (string Metric, double[] Steps, double[] Values)? FidPoints(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            string metric = root.TryGetProperty("metric", out var m) ? m.GetString() ?? "FID" : "FID";
            var pts = root.GetProperty("points").EnumerateArray()
                          .Select(e => (Step: e.GetProperty("step").GetDouble(), Value: e.GetProperty("value").GetDouble())).OrderBy(x => x.Step).ToArray();
            return pts.Length == 0 ? null : (metric, pts.Select(x => x.Step).ToArray(), pts.Select(x => x.Value).ToArray());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    private static void Write(string path, string runDir, DetectCurveParams p, string realTrain, string realTest,
                              List<DetectCurvePoint> points, Dictionary<string, DetectCurvePoint> cache)
    {
        var doc = new
        {
            run = runDir,
            arch = p.Arch,
            n = p.N,
            n_test = p.NTest,
            epochs = p.Epochs,
            seed = p.Seed,
            real_train = realTrain,
            real_test = realTest,
            fake_test_seed_base = FakeSource.TestSeedBase,
            points = points.OrderBy(x => x.Step).Select(x => new { x.Step, x.Accuracy, x.RocAuc, x.Checkpoint, x.Sha256, x.ElapsedS }),
            cache = cache.Select(kv => new CacheEntry<DetectCurvePoint>(kv.Key, kv.Value with { Reused = false })),
        };
        AtomicFile.WriteAllText(path, Json.Serialize(doc));
    }
}
