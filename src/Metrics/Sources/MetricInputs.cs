// Resolves what a user names as a metric input (`gen fid A B`): a `.npz` of statistics, a generator
// checkpoint (file or run folder holding last.safetensors), an image folder (images directly inside, read
// like pytorch-fid), or a dataset (short name with optional split, default test; IDX/CIFAR files or folders;
// class-subfolder trees). Decided in that order, so a folder of PNGs is always read as plain images.
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using Gen.Metrics.Stats;

namespace Gen.Metrics.Sources;

public enum InputKind { Stats, Checkpoint, Folder, Dataset }

/// <summary>Part Index (0-based) of Count contiguous parts: images [⌊Index·N/Count⌋, ⌊(Index+1)·N/Count⌋).</summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>"k/n", k from 0 (a Slurm array index or a Kubernetes completion index).</summary>
    public static Shard Parse(string text)
    {
        string[] parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int k) || !int.TryParse(parts[1], out int n) || n < 1 || k < 0 || k >= n)
            throw new GenInputException($"--shard takes k/n with 0 ≤ k < n (e.g. 0/4 … 3/4), got '{text}'");
        return new Shard(k, n);
    }

    public (int Start, int Count) Range(int total)
    {
        if (total < Count) throw new GenInputException($"{Count} shards of {total} images would leave some empty; use at most {total} shards");
        int start = (int)((long)Index * total / Count), end = (int)((long)(Index + 1) * total / Count);
        return (start, end - start);
    }
}

public sealed class MetricInput : IDisposable
{
    private MetricInput(string spec, InputKind kind, GaussianStats? stats, IImageSource? images)
    {
        Spec = spec;
        Kind = kind;
        Stats = stats;
        Images = images;
    }

    public string Spec { get; }
    public InputKind Kind { get; }
    public GaussianStats? Stats { get; }
    public IImageSource? Images { get; }
    public string Name => Images?.Name ?? Spec;

    /// <summary>Images of the whole input when this is one shard of it; else the images' count.</summary>
    public int Total { get; private init; } = -1;

    /// <param name="n">Images to sample from a generator; a limit (first n) for folders and datasets; null = all.</param>
    /// <param name="seed">First seed for generator sampling.</param>
    /// <param name="shard">Only part Index of Count equal contiguous parts of those images (image i of a generator keeps seed + i).</param>
    public static MetricInput Resolve(string spec, int? n, long seed, IProgress<string>? log = null, Shard? shard = null)
    {
        if (shard is { } sh)
        {
            if (spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
                throw new GenInputException($"'{spec}' holds statistics; --shard splits images (a folder, a dataset or a checkpoint)");
            MetricInput whole = Resolve(spec, n, seed, log);
            int total = whole.Images!.Count;
            var (start, count) = sh.Range(total);
            IImageSource part = whole.Images switch
            {
                GeneratorSource g => g.Slice(start, count),
                FolderSource f => f.Slice(start, count),
                ImageSetSource d => d.Slice(start, count),
                var other => throw new InvalidOperationException($"cannot shard {other.GetType().Name}"),
            };
            return new MetricInput(spec, whole.Kind, null, part) { Total = total };
        }
        if (string.IsNullOrWhiteSpace(spec)) throw new GenInputException("an empty input was given; pass an image folder, a dataset name, a .npz file or a checkpoint");
        if (n is <= 0) throw new GenInputException($"--n must be positive, got {n}");
        if (spec.EndsWith(".npz", StringComparison.OrdinalIgnoreCase))
            return new MetricInput(spec, InputKind.Stats, GaussianStats.Load(spec), null);
        if (IsCheckpoint(spec))
        {
            if (n is null) throw new GenInputException($"'{spec}' is a generator checkpoint: say how many images to sample with --n (e.g. --n 10000) and optionally --seed");
            IImageSampler sampler = ImageGenerators.Open(spec);
            return new MetricInput(spec, InputKind.Checkpoint, null, new GeneratorSource(sampler, spec, n.Value, seed));
        }
        if (Directory.Exists(spec) && Directory.EnumerateFiles(spec).Any(f => FolderSource.Decodable.Contains(Path.GetExtension(f).ToLowerInvariant())
                                                                        || FolderSource.Undecodable.Contains(Path.GetExtension(f).ToLowerInvariant())))
            return new MetricInput(spec, InputKind.Folder, null, Limit(new FolderSource(spec), n));
        ImageSet set = DatasetCatalog.Load(spec, Split.Test, log);
        if (n is not null) set = set.Take(n.Value);
        return new MetricInput(spec, InputKind.Dataset, null, new ImageSetSource(set));
    }

    /// <summary>Whether an input names a generator checkpoint: a .safetensors file, an exported .onnx denoiser, or a run folder holding last.safetensors.</summary>
    public static bool IsCheckpoint(string spec)
    {
        if (File.Exists(spec)) return spec.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || Gen.Pipeline.Onnx.OnnxModels.IsOnnxPath(spec);
        return Directory.Exists(spec) && File.Exists(Path.Combine(spec, "last.safetensors"));
    }

    private static FolderSource Limit(FolderSource folder, int? n) => n is null || n >= folder.Count ? folder : folder.Slice(0, n.Value, $" (first {n})");

    public void Dispose() => Images?.Dispose();
}
