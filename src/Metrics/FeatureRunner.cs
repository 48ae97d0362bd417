// Streams an image source through a feature extractor, one dispose scope and one NativeCallGuard per batch
// (docs/platform.md §6), either into streaming statistics (FID: memory bounded by the batch) or into an
// N×d float32 matrix (IS, KID need the rows).
using System.Diagnostics;
using Gen.Metrics.Features;
using Gen.Metrics.Sources;
using Gen.Metrics.Stats;
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics;

public sealed record MetricProgress(string Stage, long Done, long Total, double ImagesPerSecond, string? Message = null);

public static class FeatureRunner
{
    public const int DefaultBatch = 50;   // pytorch-fid --batch-size

    public static void Run(IFeatureExtractor extractor, IImageSource source, int batchSize, Action<Tensor> onFeatures,
                           IProgress<MetricProgress>? progress = null, string stage = "features", CancellationToken cancel = default) =>
        RunAll(extractor, source, batchSize, o => onFeatures(o[0]), extras: false, progress, stage, cancel);

    /// <summary>Every row of the features and of the extractor's extra outputs (one N×k float32 tensor each; the caller disposes them).</summary>
    public static Tensor[] CollectAll(IFeatureExtractor extractor, IImageSource source, int batchSize,
                                      IProgress<MetricProgress>? progress = null, string stage = "features", CancellationToken cancel = default)
    {
        var parts = new List<float[]>[1 + extractor.Extras.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = [];
        var widths = new long[parts.Length];
        RunAll(extractor, source, batchSize, outputs =>
        {
            for (int i = 0; i < outputs.Length; i++)
            {
                widths[i] = outputs[i].shape[1];
                parts[i].Add(outputs[i].contiguous().data<float>().ToArray());
            }
        }, extras: true, progress, stage, cancel);
        return parts.Select((p, i) => tensor(p.SelectMany(v => v).ToArray(), [source.Count, widths[i] == 0 ? extractor.Info.Dims : widths[i]])).ToArray();
    }

    private static void RunAll(IFeatureExtractor extractor, IImageSource source, int batchSize, Action<Tensor[]> onOutputs, bool extras,
                               IProgress<MetricProgress>? progress, string stage, CancellationToken cancel)
    {
        if (batchSize <= 0) throw new GenInputException($"--batch must be positive, got {batchSize}");
        batchSize = Math.Min(batchSize, Math.Max(source.Count, 1));   // pytorch-fid: batch = min(batch, N)
        var clock = Stopwatch.StartNew();
        var told = new HashSet<string>(StringComparer.Ordinal);
        long done = 0, batches = 0;
        int trace = MallocTuning.TraceEvery;
        using var _ = no_grad();
        foreach (ImageBatch b in source.Batches(batchSize, cancel))
        {
            if (extractor.Adapts(b.Channels, b.Height, b.Width) is { } note && told.Add(note))
                progress?.Report(new MetricProgress(stage, done, source.Count, 0, note));
            using (NativeCallGuard.Enter())
            using (var scope = NewDisposeScope())
            {
                Tensor images = tensor(b.Pixels, [b.Count, b.Channels, b.Height, b.Width], ScalarType.Byte);
                Tensor[] outputs = extras ? extractor.FeaturesAndExtras(images) : [extractor.Features(images)];
                if (outputs.Any(f => !f.isfinite().all().item<bool>()))
                    throw new GenInputException($"the extractor produced non-finite features for images {done}…{done + b.Count - 1} of {source.Name}; with --dtype bf16 try float32");
                onOutputs(outputs);
            }
            done += b.Count;
            if (trace > 0 && ++batches % trace == 0) MallocTuning.Trace($"images={done}");
            progress?.Report(new MetricProgress(stage, done, source.Count, done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9)));
        }
        foreach (string note in source.Notes)
            progress?.Report(new MetricProgress(stage, done, source.Count, 0, note));
    }

    /// <summary>Mean and covariance of the extractor's features over the source, streamed.</summary>
    public static GaussianStats Stats(IFeatureExtractor extractor, IImageSource source, int batchSize,
                                      IProgress<MetricProgress>? progress = null, string stage = "features", CancellationToken cancel = default)
    {
        using var stats = new FeatureStats(extractor.Info.Dims);
        Run(extractor, source, batchSize, stats.Add, progress, stage, cancel);
        return stats.Result();
    }

    /// <summary>All features as an N×d float32 tensor (the caller disposes it).</summary>
    public static Tensor Collect(IFeatureExtractor extractor, IImageSource source, int batchSize,
                                 IProgress<MetricProgress>? progress = null, string stage = "features", CancellationToken cancel = default)
    {
        var rows = new float[(long)source.Count * extractor.Info.Dims];
        long at = 0;
        Run(extractor, source, batchSize, f =>
        {
            float[] v = f.contiguous().data<float>().ToArray();
            v.CopyTo(rows, at);
            at += v.Length;
        }, progress, stage, cancel);
        return tensor(rows, [source.Count, extractor.Info.Dims]);
    }
}
