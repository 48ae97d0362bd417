// Where metric images come from, streamed batch by batch so memory is bounded by the batch, not by N:
//  * ImageSetSource: a dataset already in memory (DatasetCatalog: fashion-mnist:test, IDX files, CIFAR…);
//  * FolderSource: an image folder read as pytorch-fid reads it (fid_score.py: files directly in the folder,
//    no recursion, extensions bmp jpg jpeg pgm png ppm tif tiff webp, sorted by path) and decoded a batch at a
//    time; images may have mixed sizes (each is resized by the extractor on its own, as pytorch-fid does);
//  * GeneratorSource: a generator checkpoint through the IImageSampler seam, seeds seed … seed+N−1.
// Batches hold consecutive images of one shape; a shape change starts a new batch (order is kept).
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;

namespace Gen.Metrics.Sources;

/// <summary>Consecutive images of one shape, planar uint8 (Count×C×H×W).</summary>
public sealed record ImageBatch(byte[] Pixels, int Count, int Channels, int Height, int Width);

public interface IImageSource : IDisposable
{
    /// <summary>What the images are, for results ("fashion-mnist:test", a folder, a checkpoint and seeds).</summary>
    string Name { get; }
    int Count { get; }

    /// <summary>Facts a user should know about how the images were read (mixed sizes, skipped files).</summary>
    IReadOnlyList<string> Notes { get; }

    IEnumerable<ImageBatch> Batches(int batchSize, CancellationToken cancel = default);
}

public sealed class ImageSetSource(ImageSet set) : IImageSource
{
    public ImageSetSource Slice(int start, int count) =>
        new(set.Select(Enumerable.Range(start, count).ToArray(), $"{set.Name} (images {start}…{start + count - 1})"));

    public string Name => set.Name;
    public int Count => set.Count;
    public IReadOnlyList<string> Notes => [];

    public IEnumerable<ImageBatch> Batches(int batchSize, CancellationToken cancel = default)
    {
        int per = set.ImageBytes;
        for (int start = 0; start < set.Count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, set.Count - start);
            yield return new ImageBatch(set.Pixels.AsSpan(start * per, n * per).ToArray(), n, set.Channels, set.Height, set.Width);
        }
    }

    public void Dispose() { }
}

public sealed class FolderSource : IImageSource
{
    // pytorch-fid fid_score.py IMAGE_EXTENSIONS; SkiaSharp decodes the first five.
    public static readonly string[] Decodable = [".png", ".jpg", ".jpeg", ".bmp", ".webp"];
    public static readonly string[] Undecodable = [".pgm", ".ppm", ".tif", ".tiff"];

    private readonly string[] _files;
    private readonly List<string> _notes = [];

    public FolderSource(string folder)
    {
        if (!Directory.Exists(folder)) throw new GenInputException($"folder '{folder}' does not exist; check the path");
        Folder = folder;
        var all = Directory.EnumerateFiles(folder).ToList();
        string[] undecodable = all.Where(f => Undecodable.Contains(Path.GetExtension(f).ToLowerInvariant())).ToArray();
        if (undecodable.Length > 0)
            throw new GenInputException($"folder '{folder}' holds {undecodable.Length} PGM/PPM/TIFF image(s) (e.g. '{Path.GetFileName(undecodable[0])}') that pytorch-fid would count but Gen cannot decode; convert them to PNG");
        _files = all.Where(f => Decodable.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (_files.Length == 0)
        {
            int nested = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count(f => Decodable.Contains(Path.GetExtension(f).ToLowerInvariant()));
            throw new GenInputException(nested > 0
                ? $"folder '{folder}' holds no images directly but {nested} in subfolders; like pytorch-fid, Gen reads one folder without recursion: pass the subfolder"
                : $"folder '{folder}' holds no images (looked for {string.Join(" ", Decodable)}); pass a folder of generated or real images");
        }
    }

    private FolderSource(string folder, string[] files)
    {
        Folder = folder;
        _files = files;
    }

    /// <summary>Images start … start+count−1 of the folder's sorted listing (only those files are decoded).</summary>
    public FolderSource Slice(int start, int count, string? label = null) =>
        new(Folder, _files.AsSpan(start, count).ToArray()) { Part = Part + (label ?? $" (images {start}…{start + count - 1})") };

    private string Part { get; init; } = "";

    public string Folder { get; }
    public string Name => Folder + Part;
    public int Count => _files.Length;
    public IReadOnlyList<string> Notes => _notes;

    public IEnumerable<ImageBatch> Batches(int batchSize, CancellationToken cancel = default)
    {
        (int C, int H, int W)? first = null;
        var pending = new List<DecodedImage>();
        for (int start = 0; start < _files.Length; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, _files.Length - start);
            var decoded = new DecodedImage[n];
            try
            {
                Parallel.For(0, n, i => decoded[i] = ImageCodec.Decode(_files[start + i]));
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<GenInputException>().FirstOrDefault() is { } bad)
            {
                throw bad;
            }
            for (int i = 0; i < n; i++)
            {
                DecodedImage img = decoded[i];
                first ??= (img.Channels, img.Height, img.Width);
                if ((img.Height, img.Width) != (first.Value.H, first.Value.W) && !_notes.Any(s => s.StartsWith("mixed sizes", StringComparison.Ordinal)))
                    _notes.Add($"mixed sizes: {first.Value.W}×{first.Value.H} and {img.Width}×{img.Height} (e.g. image {start + i}); each image is resized by the extractor on its own, as pytorch-fid does");
                if (pending.Count > 0 && !SameShape(pending[0], img))
                {
                    yield return Pack(pending);
                    pending.Clear();
                }
                pending.Add(img);
                if (pending.Count == batchSize)
                {
                    yield return Pack(pending);
                    pending.Clear();
                }
            }
        }
        if (pending.Count > 0) yield return Pack(pending);
    }

    private static bool SameShape(DecodedImage a, DecodedImage b) => a.Channels == b.Channels && a.Height == b.Height && a.Width == b.Width;

    private static ImageBatch Pack(List<DecodedImage> images)
    {
        DecodedImage f = images[0];
        int per = f.Pixels.Length;
        var px = new byte[per * images.Count];
        for (int i = 0; i < images.Count; i++) images[i].Pixels.CopyTo(px, i * per);
        return new ImageBatch(px, images.Count, f.Channels, f.Height, f.Width);
    }

    public void Dispose() { }
}

public sealed class GeneratorSource(IImageSampler sampler, string checkpoint, int count, long seed) : IImageSource
{
    /// <summary>Images start … start+count−1 of this source: the same seeds, so shards add up to the whole.</summary>
    public GeneratorSource Slice(int start, int n) => new(sampler, checkpoint, n, seed + start);

    public string Name => $"{checkpoint} ({sampler.Description}), seeds {seed}…{seed + count - 1}";
    public int Count => count;
    public IReadOnlyList<string> Notes => [];

    public IEnumerable<ImageBatch> Batches(int batchSize, CancellationToken cancel = default)
    {
        int per = sampler.Channels * sampler.Height * sampler.Width;
        for (int start = 0; start < count; start += batchSize)
        {
            cancel.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, count - start);
            byte[] px = sampler.SampleUint8(n, seed + start);
            if (px.Length != n * per)
                throw new InvalidOperationException($"sampler '{sampler.Description}' returned {px.Length} bytes for {n} images of {per} bytes");
            yield return new ImageBatch(px, n, sampler.Channels, sampler.Height, sampler.Width);
        }
    }

    public void Dispose() => sampler.Dispose();
}
