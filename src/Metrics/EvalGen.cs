// `gen eval-gen A B --metrics fid,kid,is,pr,dc`: every requested metric of a generated set A against a
// reference B from ONE feature pass per input (docs/methods/metrics.md §12, §14). The Inception runs
// once per image and gives pool3 (FID, KID, precision/recall, density/coverage) and, when IS is asked
// for, the logits of the same forward pass. One preprocessing serves every metric (torch-fidelity's by
// default: it is the reference tool that computes all of these in one pass), and the record says which.
//
// Bootstrap intervals (--bootstrap B): B replicates, each resampling rows with replacement from a
// seeded generator. FID and KID resample both feature sets and recompute; IS resamples A's logits.
// Precision, recall, density and coverage resample the per-sample indicators (is this fake sample on
// the real manifold, does this real point's ball hold a fake sample) with the manifolds of the full
// sets held fixed: recomputing the k-NN radii of a resample would put duplicates at distance 0 and
// shrink every radius, which biases the metric rather than measuring its spread. Intervals are the
// 2.5 and 97.5 percentiles of the replicates.
using System.Diagnostics;
using Gen.Metrics.Features;
using Gen.Metrics.Inception;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record EvalGenOptions
{
    public static readonly string[] Known = ["fid", "kid", "is", "pr", "dc"];

    public IReadOnlyList<string> Metrics { get; init; } = ["fid", "kid", "pr", "dc"];
    public int KPr { get; init; } = Manifold.DefaultKPr;
    public int KDc { get; init; } = Manifold.DefaultKDc;
    public int KidSubsets { get; init; } = Kid.DefaultSubsets;
    public int KidSubsetSize { get; init; } = Kid.DefaultSubsetSize;
    public int IsSplits { get; init; } = InceptionScore.DefaultSplits;
    public int Bootstrap { get; init; }
    public long BootstrapSeed { get; init; }

    public static IReadOnlyList<string> Parse(string text)
    {
        var list = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                       .Select(m => m.ToLowerInvariant()).Distinct().ToList();
        CheckMetrics(list);
        return list;
    }

    private static void CheckMetrics(IReadOnlyList<string> metrics)
    {
        if (metrics.Count == 0) throw new GenInputException($"--metrics is empty; give some of {string.Join(",", Known)}");
        foreach (string m in metrics)
            if (!Known.Contains(m)) throw new GenInputException($"--metrics: unknown metric '{m}'; known: {string.Join(", ", Known)}");
    }

    public void Validate()
    {
        CheckMetrics(Metrics);
        if (KPr < 1 || KDc < 1) throw new GenInputException($"--k-pr and --k-dc must be positive, got {KPr} and {KDc}");
        if (Bootstrap < 0) throw new GenInputException($"--bootstrap must be zero (off) or a number of replicates, got {Bootstrap}");
        if (Bootstrap is > 0 and < 20) throw new GenInputException($"--bootstrap {Bootstrap} is too few replicates for a 95% interval; use 20 or more (200 is usual)");
    }
}

/// <summary>One metric's value; with a bootstrap, the replicates' standard deviation and 95% percentile interval.</summary>
public sealed record MetricValue(string Name, double Value, double? Std = null, double? Low = null, double? High = null, string? Note = null);

public sealed record EvalGenResult(InputRecord A, InputRecord B, ExtractorRecord Extractor, IReadOnlyList<MetricValue> Values,
                                   IReadOnlyDictionary<string, object> Parameters, int Bootstrap, IReadOnlyList<string> Warnings,
                                   double ExtractSeconds, double MetricSeconds, double ElapsedS)
{
    public MetricValue this[string name] => Values.First(v => v.Name == name);
}

public static class EvalGen
{
    /// <summary>The metrics of fake features (and logits) against real features; the extractor's labels name them.</summary>
    public static (List<MetricValue> Values, List<string> Warnings) Compute(Tensor fake, Tensor? fakeLogits, Tensor real, ExtractorInfo extractor,
                                                                           EvalGenOptions o, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        o.Validate();
        var values = new List<MetricValue>();
        var warnings = new List<string>();
        string fd = extractor.FrechetLabel, kd = extractor.Kind == ExtractorKind.Inception ? "KID" : "KD-FMNIST";
        int subsetSize = Math.Min(o.KidSubsetSize, (int)Math.Min(fake.shape[0], real.shape[0]));
        if (o.Metrics.Contains("kid") && subsetSize < o.KidSubsetSize)
            warnings.Add($"KID subsets of {subsetSize} images (fewer than torch-fidelity's {o.KidSubsetSize}: the smaller set has {subsetSize})");

        GaussianStats? realStats = o.Metrics.Contains("fid") ? StatsOf(real) : null;
        PrdcParts? parts = o.Metrics.Contains("pr") || o.Metrics.Contains("dc") ? Manifold.Parts(real, fake, o.KPr, o.KDc) : null;

        double Fid(Tensor f, GaussianStats r) => Frechet.Distance(StatsOf(f), r).Distance;
        double KidOf(Tensor f, Tensor r) => Kid.Compute(f, r, o.KidSubsets, subsetSize).Mean;
        double IsOf(Tensor l) => InceptionScore.Compute(l, o.IsSplits).Mean;

        var point = new Dictionary<string, double>();
        if (realStats is not null) point[fd] = Fid(fake, realStats);
        if (o.Metrics.Contains("kid")) point[kd] = KidOf(fake, real);
        if (o.Metrics.Contains("is"))
        {
            if (fakeLogits is null) throw new GenInputException("the Inception Score needs the Inception's class logits; run it with the Inception extractor ('gen weights fetch inception')");
            point["IS"] = IsOf(fakeLogits);
        }
        if (parts is not null)
        {
            PrdcResult r = parts.Result();
            if (o.Metrics.Contains("pr")) { point["precision"] = r.Precision; point["recall"] = r.Recall; }
            if (o.Metrics.Contains("dc")) { point["density"] = r.Density; point["coverage"] = r.Coverage; }
        }

        var reps = point.Keys.ToDictionary(k => k, _ => new List<double>());
        if (o.Bootstrap > 0)
        {
            var rng = new Random((int)(o.BootstrapSeed & 0x7fffffff) ^ 0x5eed);
            long m = fake.shape[0], n = real.shape[0];
            for (int b = 0; b < o.Bootstrap; b++)
            {
                cancel.ThrowIfCancellationRequested();
                using var guard = NativeCallGuard.Enter();
                using var scope = NewDisposeScope();
                long[] fi = Enumerable.Range(0, (int)m).Select(_ => (long)rng.Next((int)m)).ToArray();
                long[] ri = Enumerable.Range(0, (int)n).Select(_ => (long)rng.Next((int)n)).ToArray();
                Tensor fIdx = tensor(fi), rIdx = tensor(ri);
                Tensor fb = fake.index_select(0, fIdx), rb = real.index_select(0, rIdx);
                if (realStats is not null) reps[fd].Add(Fid(fb, StatsOf(rb)));
                if (reps.ContainsKey(kd)) reps[kd].Add(KidOf(fb, rb));
                if (reps.ContainsKey("IS")) reps["IS"].Add(IsOf(fakeLogits!.index_select(0, fIdx)));
                if (parts is not null)
                {
                    var resampled = new PrdcParts(fi.Select(i => parts.FakeInReal[i]).ToArray(), fi.Select(i => parts.FakeBallCount[i]).ToArray(),
                                                  ri.Select(i => parts.RealInFake[i]).ToArray(), ri.Select(i => parts.RealCovered[i]).ToArray(), o.KPr, o.KDc).Result();
                    if (reps.ContainsKey("precision")) { reps["precision"].Add(resampled.Precision); reps["recall"].Add(resampled.Recall); }
                    if (reps.ContainsKey("density")) { reps["density"].Add(resampled.Density); reps["coverage"].Add(resampled.Coverage); }
                }
                if ((b + 1) % 20 == 0) log?.Report($"bootstrap {b + 1}/{o.Bootstrap}");
                scope.Dispose();
                MallocTuning.Trim();   // replicates fragment the untrimmed heap: in use stays flat, RSS would grow (docs/platform.md §7)
                if (MallocTuning.TraceEvery > 0 && (b + 1) % MallocTuning.TraceEvery == 0) MallocTuning.Trace($"replicate={b + 1}");
            }
        }
        foreach (var (name, v) in point)
        {
            string? note = name switch
            {
                "precision" or "recall" => $"k = {o.KPr}",
                "density" or "coverage" => $"k = {o.KDc}",
                "IS" => $"{o.IsSplits} splits",
                _ when name == kd => $"{o.KidSubsets} subsets of {subsetSize}",
                _ => null,
            };
            if (reps[name].Count == 0) { values.Add(new MetricValue(name, v, Note: note)); continue; }
            var sorted = reps[name].Order().ToArray();
            double mean = sorted.Average();
            double std = Math.Sqrt(sorted.Sum(x => (x - mean) * (x - mean)) / (sorted.Length - 1));
            values.Add(new MetricValue(name, v, std, Percentile(sorted, 0.025), Percentile(sorted, 0.975), note));
        }
        return (values, warnings);
    }

    /// <summary>Linear interpolation between order statistics (numpy's default percentile).</summary>
    public static double Percentile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    public static GaussianStats StatsOf(Tensor features)
    {
        using var stats = new FeatureStats((int)features.shape[1]);
        for (long s = 0; s < features.shape[0]; s += 4096)
            stats.Add(features.narrow(0, s, Math.Min(4096, features.shape[0] - s)));
        return stats.Result();
    }
}

public sealed partial class MetricJobs
{
    /// <summary>Features of A and B once; every requested metric from them.</summary>
    public EvalGenResult EvalGen(string a, string b, int? nA, int? nB, long seed, EvalGenOptions o)
    {
        var clock = Stopwatch.StartNew();
        o.Validate();
        if (a.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || b.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new GenInputException("eval-gen needs the features of every image (precision, recall, KID and intervals are not defined on mean and covariance); pass image folders, datasets or checkpoints, not .npz statistics (gen fid takes those)");
        bool wantIs = o.Metrics.Contains("is");
        ExtractorKind kind = Extractors.Resolve(Options, Log);
        if (wantIs && kind == ExtractorKind.Fmnist)
            throw new GenInputException("the Inception Score is defined on the Inception's 1008 classes; drop 'is' from --metrics with --extractor fmnist");
        using IFeatureExtractor e = Extractors.Open(Options, kind, null, Preprocessing.TorchFidelity,
                                                    wantIs ? [InceptionOutput.LogitsUnbiased] : null);
        using MetricInput ia = MetricInput.Resolve(a, nA, seed, Log);
        using MetricInput ib = MetricInput.Resolve(b, nB, seed, Log);
        Tensor[] fa = FeatureRunner.CollectAll(e, ia.Images!, Options.Batch, Progress, "A", Cancel);
        Tensor[] fb = FeatureRunner.CollectAll(e, ib.Images!, Options.Batch, Progress, "B", Cancel);
        try
        {
            double extract = clock.Elapsed.TotalSeconds;
            var metricClock = Stopwatch.StartNew();
            var (values, warnings) = global::Gen.Metrics.EvalGen.Compute(fa[0], wantIs ? fa[1] : null, fb[0], e.Info, o, Log, Cancel);
            var ra = new InputRecord(a, Kind(ia), ia.Images!.Name, fa[0].shape[0], ia.Images.Notes.ToArray());
            var rb = new InputRecord(b, Kind(ib), ib.Images!.Name, fb[0].shape[0], ib.Images.Notes.ToArray());
            if (o.Metrics.Contains("fid")) warnings.InsertRange(0, RankWarnings(e.Info.Dims, ra, rb));
            var parameters = new Dictionary<string, object>
            {
                ["metrics"] = o.Metrics, ["k_pr"] = o.KPr, ["k_dc"] = o.KDc, ["kid_subsets"] = o.KidSubsets, ["kid_subset_size"] = o.KidSubsetSize,
                ["is_splits"] = o.IsSplits, ["bootstrap_seed"] = o.BootstrapSeed,
            };
            return new EvalGenResult(ra, rb, ExtractorRecord.Of(e.Info), values, parameters, o.Bootstrap, warnings,
                                     extract, metricClock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds);
        }
        finally
        {
            foreach (var t in fa.Concat(fb)) t.Dispose();
        }
    }
}
