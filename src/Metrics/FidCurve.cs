// FID (or FD-FMNIST) against training step for every snapshot of a run (RUN/checkpoints/*.safetensors, as the
// Trainer writes them): each checkpoint samples the same seeds seed … seed+N−1 through the IImageSampler seam,
// so the curve shows the model changing, not the noise. Results go to RUN/fid_curve.json after every point
// (an interrupted evaluation keeps what it finished) and RUN/fid_curve.png. A point is reused when its key,
// (checkpoint SHA-256, extractor hash and layer, preprocessing, N, seed, reference), is already in the file.
using System.Text.Json;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Training;

namespace Gen.Metrics;

public sealed record CurvePoint(long Step, string Checkpoint, string Sha256, double Value, bool Reused, double ElapsedS);

public sealed record CurveResult(string Run, string Metric, string Reference, ExtractorRecord Extractor, int N, long Seed,
                                 IReadOnlyList<CurvePoint> Points, string Json, string Plot, IReadOnlyList<string> Warnings);

public static class FidCurve
{
    public const int DefaultN = 2000;   // docs/methods/metrics.md §8: N per checkpoint on a 2-core CPU; N is always reported
    public const string JsonFile = "fid_curve.json";
    public const string PlotFile = "fid_curve.png";

    public static CurveResult Run(string runDir, string reference, int n, long seed, ExtractorOptions options,
                                  IProgress<MetricProgress>? progress = null, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        string snapshots = Path.Combine(runDir, Trainer.SnapshotDir);
        if (!Directory.Exists(runDir)) throw new GenInputException($"run folder '{runDir}' does not exist; pass the --out folder of a training run");
        string[] files = Directory.Exists(snapshots) ? Directory.GetFiles(snapshots, "*.safetensors").Order(StringComparer.Ordinal).ToArray() : [];
        if (files.Length == 0)
            throw new GenInputException($"'{runDir}' has no checkpoints in {Trainer.SnapshotDir}/; train with --checkpoint-every to keep snapshots");
        if (n < 2) throw new GenInputException($"--n must be at least 2, got {n}");

        var jobs = new MetricJobs(options, progress, log, cancel);
        using var extractor = jobs.Open(null, Features.Preprocessing.PytorchFid);
        var ex = ExtractorRecord.Of(extractor.Info);
        var (refStats, refRecord) = RefStats(jobs, reference, extractor, log);
        var warnings = MetricJobs.RankWarnings(refStats.Dims, refRecord);
        if (n <= refStats.Dims) warnings.Add($"N = {n} ≤ {refStats.Dims} feature dimensions: each point is strongly biased; use a larger --n");

        string jsonPath = Path.Combine(runDir, JsonFile);
        var saved = Json.ReadCache<CurvePoint>(jsonPath);
        var points = new List<CurvePoint>();
        foreach (string file in files)
        {
            cancel.ThrowIfCancellationRequested();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            string sha = Inception.InceptionWeights.FileSha256(file);
            long step = Checkpoint.Info(SafeTensors.Read(file)).Step;
            string key = string.Join("|", sha, ex.WeightsSha256, ex.Layer, ex.Preprocessing, ex.Dtype, n, seed, refRecord.Name, refRecord.N);
            CurvePoint point;
            if (saved.TryGetValue(key, out CurvePoint? old))
                point = old with { Reused = true, Checkpoint = file };
            else
            {
                log?.Report($"step {step}: sampling {n} images from {Path.GetFileName(file)}");
                using MetricInput input = MetricInput.Resolve(file, n, seed, log);
                var (stats, _) = jobs.StatsOf(input, extractor, n, $"step {step}");
                double value = Frechet.Distance(stats, refStats).Distance;
                point = new CurvePoint(step, file, sha, value, false, clock.Elapsed.TotalSeconds);
                saved[key] = point;
            }
            points.Add(point);
            Write(jsonPath, runDir, reference, extractor.Info.FrechetLabel, ex, n, seed, points, saved);
        }
        string plot = Path.Combine(runDir, PlotFile);
        var sorted = points.OrderBy(p => p.Step).ToList();
        Plots.Line(plot, $"{extractor.Info.FrechetLabel} vs {reference} (N = {n}, {ex.Name} {ex.WeightsSha256[..8]})", "step", extractor.Info.FrechetLabel,
                   [(extractor.Info.FrechetLabel, sorted.Select(p => (double)p.Step).ToArray(), sorted.Select(p => p.Value).ToArray())]);
        return new CurveResult(runDir, extractor.Info.FrechetLabel, reference, ex, n, seed, sorted, jsonPath, plot, warnings);
    }

    private static (GaussianStats, InputRecord) RefStats(MetricJobs jobs, string reference, Features.IFeatureExtractor extractor, IProgress<string>? log)
    {
        if (reference.Equals(MetricJobs.BundledRefSpec, StringComparison.OrdinalIgnoreCase) && extractor.Info is { Kind: Features.ExtractorKind.Fmnist, StandardWeights: true })
        {
            GaussianStats s = Fmnist.FmnistExtractor.BundledTestStats();
            return (s, new InputRecord(reference, "bundled-stats", reference + " (bundled statistics)", s.Count, []));
        }
        using MetricInput input = MetricInput.Resolve(reference, null, 0, log);
        return jobs.StatsOf(input, extractor, null, "reference");
    }

    private static void Write(string path, string runDir, string reference, string metric, ExtractorRecord ex, int n, long seed,
                              List<CurvePoint> points, Dictionary<string, CurvePoint> cache)
    {
        var doc = new
        {
            run = runDir,
            metric,
            reference,
            n,
            seed,
            extractor = ex,
            points = points.OrderBy(p => p.Step).Select(p => new { p.Step, p.Value, p.Checkpoint, p.Sha256, p.ElapsedS }),
            cache = cache.Select(kv => new CacheEntry<CurvePoint>(kv.Key, kv.Value with { Reused = false })),
        };
        AtomicFile.WriteAllText(path, Json.Serialize(doc));
    }
}
