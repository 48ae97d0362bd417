// Per-class FID (intra-FID; Miyato & Koyama, "cGANs with Projection Discriminator", ICLR 2018): the FID of
// each class of the generated set against the same class of the reference, and their mean
// (docs/methods/metrics.md §16). The reference B is a labelled set (a dataset, or a folder of
// class subfolders); A is a folder of class subfolders (matched to B's classes by name, or by index when
// the subfolders are named 0, 1, …) or a class-conditional generator checkpoint, sampled class by class
// through its sampler's `class` option (the same seeds for every class).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;

namespace Gen.Metrics;

public sealed record ClassFid(int Class, string Name, double Value, long ImagesA, long ImagesB);

public sealed record PerClassFidResult(string Metric, IReadOnlyList<ClassFid> Classes, double Mean, InputRecord A, InputRecord B,
                                       ExtractorRecord Extractor, string? Plot, IReadOnlyList<string> Warnings, double ElapsedS);

public sealed partial class MetricJobs
{
    public PerClassFidResult PerClassFid(string a, string b, int? nPerClass, long seed, string? plot)
    {
        var clock = Stopwatch.StartNew();
        if (a.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || b.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            throw new GenInputException("--per-class needs labelled images on both sides (a .npz holds one class-less Gaussian); pass a folder of class subfolders, a dataset or a conditional checkpoint");
        ImageSet reference = DatasetCatalog.Load(b, Split.Test, Log);
        if (reference.Labels.All(l => l < 0) || reference.ClassNames.Count == 0)
            throw new GenInputException($"'{b}' has no classes; --per-class needs a labelled reference: a dataset (fashion-mnist:test) or a folder of class subfolders");
        IReadOnlyList<string> names = reference.ClassNames;
        using IFeatureExtractor e = Open(null, Preprocessing.PytorchFid);
        var warnings = new List<string>();
        var results = new List<ClassFid>();
        InputRecord ra;
        bool generator = MetricInput.IsCheckpoint(a);

        ImageSet? generated = null;
        int[] mapToReference = [];
        if (!generator)
        {
            generated = DatasetCatalog.Load(a, Split.Test, Log);
            if (generated.Labels.All(l => l < 0))
                throw new GenInputException($"'{a}' has no class subfolders; --per-class needs A's images sorted into one subfolder per class (named as B's classes or 0, 1, …), or a class-conditional checkpoint");
            mapToReference = MapClasses(generated.ClassNames, names, a, b);
            if (nPerClass is not null) warnings.Add("--n is the number of images per class for a checkpoint; for a folder every image is used");
        }
        else if (nPerClass is null)
            throw new GenInputException($"'{a}' is a generator checkpoint: say how many images to sample per class with --n (e.g. --n 1000)");

        for (int k = 0; k < names.Count; k++)
        {
            Cancel.ThrowIfCancellationRequested();
            int[] refIdx = Enumerable.Range(0, reference.Count).Where(i => reference.Labels[i] == k).ToArray();
            if (refIdx.Length < 2)
                throw new GenInputException($"class '{names[k]}' has {refIdx.Length} image(s) in '{b}'; every class needs at least 2 (its covariance)");
            GaussianStats sa;
            if (generator)
            {
                IImageSampler sampler = OpenClass(a, k);
                using var source = new GeneratorSource(sampler, a, nPerClass!.Value, seed);
                sa = FeatureRunner.Stats(e, source, Options.Batch, Progress, $"A {names[k]}", Cancel);
            }
            else
            {
                int[] genIdx = Enumerable.Range(0, generated!.Count).Where(i => generated.Labels[i] >= 0 && mapToReference[generated.Labels[i]] == k).ToArray();
                if (genIdx.Length < 2)
                    throw new GenInputException($"class '{names[k]}' of '{b}' has {genIdx.Length} image(s) in '{a}'; give every class at least 2 generated images");
                sa = FeatureRunner.Stats(e, new ImageSetSource(generated.Select(genIdx)), Options.Batch, Progress, $"A {names[k]}", Cancel);
            }
            // A before B: a generator that cannot sample by class fails before any work is done.
            GaussianStats sb = FeatureRunner.Stats(e, new ImageSetSource(reference.Select(refIdx)), Options.Batch, Progress, $"B {names[k]}", Cancel);
            results.Add(new ClassFid(k, names[k], Frechet.Distance(sa, sb).Distance, sa.Count, sb.Count));
        }
        int dims = e.Info.Dims;
        if (results.Any(r => Math.Min(r.ImagesA, r.ImagesB) <= dims))
            warnings.Add($"some classes have N ≤ {dims} feature dimensions (smallest: {results.Min(r => Math.Min(r.ImagesA, r.ImagesB))}): their covariances are rank-deficient and the per-class values strongly biased; use more images per class");
        string metric = e.Info.FrechetLabel;
        if (plot is not null)
            Plots.Bars(plot, $"{metric} per class (mean {results.Average(r => r.Value).ToString("F2", CultureInfo.InvariantCulture)})", metric,
                       results.Select(r => r.Name).ToList(), results.Select(r => r.Value).ToList());
        ra = generator
            ? new InputRecord(a, "checkpoint", $"{a}, {nPerClass} images per class from seed {seed}", (long)nPerClass!.Value * names.Count, [])
            : new InputRecord(a, "folder", generated!.Name, generated.Count, []);
        var rb = new InputRecord(b, "dataset", reference.Name, reference.Count, []);
        return new PerClassFidResult(metric, results, results.Average(r => r.Value), ra, rb, ExtractorRecord.Of(e.Info), plot, warnings, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The generator's sampler for one class (its method's `class` sampler option).</summary>
    private static IImageSampler OpenClass(string checkpoint, int k)
    {
        MethodRegistry registry = MethodRegistry.Current
            ?? throw new GenInputException("no methods are registered in this build; --per-class cannot open a generator checkpoint");
        try { return registry.Open<IImageSampler>(checkpoint, "sample images", new JsonObject { ["class"] = k }); }
        catch (GenInputException ex)
        {
            throw new GenInputException($"--per-class samples every class separately, which '{checkpoint}' cannot: {ex.Message}");
        }
    }

    /// <summary>For each class of A, the index of the class of B with the same name (or the same index when A's are 0, 1, …).</summary>
    private static int[] MapClasses(IReadOnlyList<string> generated, IReadOnlyList<string> reference, string a, string b)
    {
        var map = new int[generated.Count];
        bool numeric = generated.All(n => int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out _));
        for (int i = 0; i < generated.Count; i++)
        {
            int byName = reference.ToList().FindIndex(r => string.Equals(r, generated[i], StringComparison.OrdinalIgnoreCase));
            int k = byName >= 0 ? byName : numeric && int.Parse(generated[i], CultureInfo.InvariantCulture) is int j && j < reference.Count ? j : -1;
            if (k < 0)
                throw new GenInputException($"subfolder '{generated[i]}' of '{a}' is not a class of '{b}' ({string.Join(", ", reference)}); name A's subfolders after B's classes or 0…{reference.Count - 1}");
            map[i] = k;
        }
        return map;
    }
}
