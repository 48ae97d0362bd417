// The metric commands as library calls (the CLI only parses options and prints): FID / FD-FMNIST between two
// inputs, statistics files, Inception Score, KID. Every result records the extractor (network, layer, weights
// hash, preprocessing, dtype), each input with its N, and warnings such as a rank-deficient covariance.
using System.Diagnostics;
using System.Text.Json.Nodes;
using Gen.Metrics.Features;
using Gen.Metrics.Fmnist;
using Gen.Metrics.Inception;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record InputRecord(string Input, string Kind, string Name, long? N, IReadOnlyList<string> Notes);

public sealed record ExtractorRecord(string Name, string Network, string Layer, int Dims, string WeightsSha256, bool StandardWeights,
                                     string Preprocessing, string Dtype, string Note, string Engine = "torch")
{
    public static ExtractorRecord Of(ExtractorInfo i) => new(i.Kind == ExtractorKind.Inception ? "inception" : "fmnist", i.Network, i.Layer, i.Dims,
        i.WeightsSha256, i.StandardWeights, i.Preprocessing, i.DType == FeatureDType.BFloat16 ? "bfloat16" : "float32", i.Note, i.Engine);
}

public sealed record FidResult(string Metric, double Value, InputRecord A, InputRecord B, ExtractorRecord? Extractor, double MeanTerm,
                               double TraceSqrt, bool EpsFallback, IReadOnlyList<string> Warnings, double ElapsedS);

public sealed record StatsResult(string Out, InputRecord Input, ExtractorRecord Extractor, IReadOnlyList<string> Warnings, double ElapsedS);

public sealed record ScoreRecord(string Metric, double Mean, double Std, InputRecord A, InputRecord? B, ExtractorRecord Extractor,
                                 IReadOnlyDictionary<string, object> Parameters, IReadOnlyList<string> Warnings, double ElapsedS);

public sealed partial class MetricJobs(ExtractorOptions options, IProgress<MetricProgress>? progress = null, IProgress<string>? log = null,
                                       CancellationToken cancel = default)
{
    private ExtractorOptions Options => options;
    private IProgress<MetricProgress>? Progress => progress;
    private IProgress<string>? Log => log;
    private CancellationToken Cancel => cancel;

    public const string BundledRefSpec = "fashion-mnist:test";

    /// <summary>Statistics of one input with an extractor (bundled Fashion-MNIST test statistics when they apply).</summary>
    public (GaussianStats Stats, InputRecord Record) StatsOf(MetricInput input, IFeatureExtractor? extractor, int? n, string stage)
    {
        if (input.Stats is not null)
            return (input.Stats, new InputRecord(input.Spec, "stats", input.Spec, null, []));
        if (extractor is null) throw new InvalidOperationException("an extractor is needed for images");
        IImageSource images = input.Images!;
        GaussianStats s = FeatureRunner.Stats(extractor, images, options.Batch, progress, stage, cancel);
        return (s, new InputRecord(input.Spec, Kind(input), images.Name, s.Count, images.Notes.ToArray()));
    }

    private static string Kind(MetricInput i) => i.Kind.ToString().ToLowerInvariant();

    private static bool UsesBundledStats(string spec, IFeatureExtractor? e, int? n) =>
        n is null && e is { Info: { Kind: ExtractorKind.Fmnist, StandardWeights: true } } && spec.Equals(BundledRefSpec, StringComparison.OrdinalIgnoreCase);

    private (GaussianStats, InputRecord) Side(string spec, IFeatureExtractor? e, int? n, long seed, string stage)
    {
        if (UsesBundledStats(spec, e, n))
        {
            GaussianStats bundled = FmnistExtractor.BundledTestStats();
            return (bundled, new InputRecord(spec, "bundled-stats", $"{spec} (bundled statistics, {FmnistExtractor.TestStatsFile})", bundled.Count, []));
        }
        using MetricInput input = MetricInput.Resolve(spec, n, seed, log);
        return StatsOf(input, e, n, stage);
    }

    public FidResult Fid(string a, string b, int? nA, int? nB, long seed)
    {
        var clock = Stopwatch.StartNew();
        bool bothStats = a.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) && b.EndsWith(".npz", StringComparison.OrdinalIgnoreCase);
        using IFeatureExtractor? e = bothStats && options.Kind is null ? null : Open(null, Preprocessing.PytorchFid);
        var (sa, ra) = Side(a, e, nA, seed, "A");
        var (sb, rb) = Side(b, e, nB, seed, "B");
        JsonObject? now = e is null ? null : StatsProvenance.ExtractorOf(e.Info);
        JsonObject? pa = sa.Provenance?["extractor"]?.AsObject() ?? now, pb = sb.Provenance?["extractor"]?.AsObject() ?? now;
        StatsProvenance.CheckSameSpace(pa, sa.Provenance is null ? $"'{a}' (extracted now)" : $"'{a}'", pb, sb.Provenance is null ? $"'{b}' (extracted now)" : $"'{b}'");
        if (sa.Dims != sb.Dims)
            throw new GenInputException($"'{a}' has {sa.Dims}-d statistics and '{b}' {sb.Dims}-d; compute both with the same extractor and --dims");
        if (e is not null && sa.Dims != e.Info.Dims)
            throw new GenInputException($"the statistics have {sa.Dims} dimensions but the {ExtractorRecord.Of(e.Info).Name} extractor gives {e.Info.Dims}; pass the matching --extractor/--dims");
        var warnings = RankWarnings(sa.Dims, ra, rb);
        FrechetResult r = Frechet.Distance(sa, sb);
        if (r.EpsFallback) warnings.Add($"singular product of covariances: {Frechet.Eps} was added to both diagonals (pytorch-fid's fallback)");
        string metric = e?.Info.FrechetLabel ?? (sa.Dims == 128 ? "FD (statistics files; FD-FMNIST if made with --extractor fmnist)" : "FID (statistics files)");
        return new FidResult(metric, r.Distance, ra, rb, e is null ? null : ExtractorRecord.Of(e.Info), r.MeanTerm, r.TraceSqrt, r.EpsFallback,
                             warnings, clock.Elapsed.TotalSeconds);
    }

    public StatsResult SaveStats(string input, string output, bool force, int? n, long seed, Shard? shard = null)
    {
        var clock = Stopwatch.StartNew();
        if (!output.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new GenInputException($"--out must name a .npz file, got '{output}'");
        if (File.Exists(output) && !force)
            throw new GenInputException($"'{output}' already exists; pass --force to overwrite it (pytorch-fid refuses too)");
        using IFeatureExtractor e = Open(null, Preprocessing.PytorchFid);
        GaussianStats s;
        InputRecord rec;
        if (shard is null && UsesBundledStats(input, e, n))
            (s, rec) = Side(input, e, n, seed, "stats");
        else
        {
            if (input.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
                throw new GenInputException($"'{input}' already holds statistics; pass images (a folder, a dataset or a checkpoint)");
            using MetricInput mi = MetricInput.Resolve(input, n, seed, log, shard);
            (s, rec) = StatsOf(mi, e, n, "stats");
            string hash = InputHash(input);
            s = s with { Provenance = StatsProvenance.Of(e.Info, input, mi.Images!.Name, hash, s.Count, mi.Total >= 0 ? mi.Total : (int)s.Count, shard,
                                                           mi.Kind == InputKind.Checkpoint ? seed : 0) };
        }
        s.Save(output);
        return new StatsResult(output, rec, ExtractorRecord.Of(e.Info), RankWarnings(s.Dims, rec), clock.Elapsed.TotalSeconds);
    }

    /// <summary>Combines the shard files of one input into the statistics of the whole (exact in float64 up to summation order).</summary>
    public static StatsResult MergeStats(IReadOnlyList<string> parts, string output, bool force)
    {
        var clock = Stopwatch.StartNew();
        if (!output.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new GenInputException($"--out must name a .npz file, got '{output}'");
        if (File.Exists(output) && !force)
            throw new GenInputException($"'{output}' already exists; pass --force to overwrite it");
        var loaded = parts.Select(p => (p, GaussianStats.Load(p))).ToList();
        var ordered = StatsProvenance.CheckShards(loaded);
        GaussianStats merged = GaussianStats.Combine(ordered.Select(o => o.Stats).ToList());
        JsonObject prov = (JsonObject)ordered[0].Stats.Provenance!.DeepClone();
        prov.Remove("shard");
        prov["n"] = merged.Count;
        prov["input_name"] = prov["input"]?.DeepClone();
        prov["merged_from"] = ordered.Count;
        merged = merged with { Provenance = prov };
        if (merged.Count != prov["input_images"]!.GetValue<long>())
            throw new GenInputException($"the shards hold {merged.Count} images but the input has {prov["input_images"]}; a shard was made from a different image count");
        merged.Save(output);
        var e = prov["extractor"]!;
        var extractor = new ExtractorRecord(e["name"]!.GetValue<string>(), e["network"]!.GetValue<string>(), e["layer"]!.GetValue<string>(), e["dims"]!.GetValue<int>(),
                                            e["weights_sha256"]!.GetValue<string>(), e["standard_weights"]!.GetValue<bool>(), e["preprocessing"]!.GetValue<string>(),
                                            e["dtype"]!.GetValue<string>(), "");
        var rec = new InputRecord(prov["input"]!.GetValue<string>(), "merged", $"{prov["input"]} ({ordered.Count} shards)", merged.Count, []);
        return new StatsResult(output, rec, extractor, RankWarnings(merged.Dims, rec), clock.Elapsed.TotalSeconds);
    }

    /// <summary>The content hash of an input: a checkpoint file, a folder or a dataset split.</summary>
    private static string InputHash(string spec) => MetricInput.IsCheckpoint(spec)
        ? Gen.Pipeline.Stages.ContentHash.OfPath(Gen.Pipeline.Checkpoints.Checkpoint.ResolvePath(spec))
        : Gen.Pipeline.Stages.ContentHash.OfData(spec, Gen.Pipeline.Data.Split.Test);

    public ScoreRecord InceptionScoreOf(string input, int? n, long seed, int splits)
    {
        var clock = Stopwatch.StartNew();
        if (options.Kind == ExtractorKind.Fmnist) throw new GenInputException("the Inception Score is defined on the Inception's 1008 classes; drop --extractor fmnist");
        // No fallback here: IS exists only on the Inception's classes, so missing weights are an error that says where they go.
        using IFeatureExtractor e = Extractors.Open(options, ExtractorKind.Inception, InceptionOutput.LogitsUnbiased, Preprocessing.TorchFidelity);
        using MetricInput mi = MetricInput.Resolve(input, n, seed, log);
        if (mi.Images is null) throw new GenInputException($"'{input}' holds statistics; the Inception Score needs images");
        using Tensor logits = FeatureRunner.Collect(e, mi.Images, options.Batch, progress, "logits", cancel);
        ScoreResult r = InceptionScore.Compute(logits, splits);
        var rec = new InputRecord(input, Kind(mi), mi.Images.Name, r.Count, mi.Images.Notes.ToArray());
        return new ScoreRecord("IS", r.Mean, r.Std, rec, null, ExtractorRecord.Of(e.Info),
                               new Dictionary<string, object> { ["splits"] = splits, ["shuffle_seed"] = InceptionScore.DefaultSeed }, [], clock.Elapsed.TotalSeconds);
    }

    public ScoreRecord KidOf(string a, string b, int? nA, int? nB, long seed, int subsets, int subsetSize)
    {
        var clock = Stopwatch.StartNew();
        using IFeatureExtractor e = Open(null, Preprocessing.TorchFidelity);
        using MetricInput ia = MetricInput.Resolve(a, nA, seed, log);
        using MetricInput ib = MetricInput.Resolve(b, nB, seed, log);
        if (ia.Images is null || ib.Images is null) throw new GenInputException("KID needs the features of every image; pass image folders, datasets or checkpoints, not .npz statistics");
        using Tensor fa = FeatureRunner.Collect(e, ia.Images, options.Batch, progress, "A", cancel);
        using Tensor fb = FeatureRunner.Collect(e, ib.Images, options.Batch, progress, "B", cancel);
        ScoreResult r = Kid.Compute(fa, fb, subsets, subsetSize, progress: new Progress<int>(s => progress?.Report(new MetricProgress("subsets", s, subsets, 0))));
        string metric = e.Info.Kind == ExtractorKind.Inception ? "KID" : "KD-FMNIST";
        return new ScoreRecord(metric, r.Mean, r.Std, new InputRecord(a, Kind(ia), ia.Images.Name, fa.shape[0], ia.Images.Notes.ToArray()),
                               new InputRecord(b, Kind(ib), ib.Images.Name, fb.shape[0], ib.Images.Notes.ToArray()), ExtractorRecord.Of(e.Info),
                               new Dictionary<string, object> { ["subsets"] = subsets, ["subset_size"] = subsetSize, ["degree"] = 3, ["coef0"] = 1, ["gamma"] = "1/d", ["seed"] = InceptionScore.DefaultSeed },
                               [], clock.Elapsed.TotalSeconds);
    }

    public IFeatureExtractor Open(InceptionOutput? layer, Preprocessing defaultPreprocessing) =>
        Extractors.Open(options, Extractors.Resolve(options, log), layer, defaultPreprocessing);

    internal static List<string> RankWarnings(int dims, params InputRecord[] inputs)
    {
        var w = new List<string>();
        foreach (var r in inputs)
            if (r.N is { } n && n <= dims)
                w.Add($"{r.Input}: N = {n} ≤ {dims} feature dimensions: the covariance is rank-deficient and the distance strongly biased; use more images (N ≥ {dims}, 10,000 is usual)");
        return w;
    }
}
