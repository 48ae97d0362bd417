// The seam between generative models and everything that consumes their images (metrics, sample export).
//
// A generator project implements IImageSampler for its checkpoints and the CLI's composition root registers
// a factory per checkpoint kind (the `gen.kind` metadata of the safetensors file):
//
//     ImageGenerators.Register("edm", path => EdmSampler.Open(path));      // in Program / GenCli.Build
//
// Consumers then open any generator checkpoint without referencing its project:
//
//     using IImageSampler s = ImageGenerators.Open("runs/edm/checkpoints/step-00010000.safetensors");
//     byte[] images = s.SampleUint8(count: 250, firstSeed: 0, progress: null);   // 250×C×H×W uint8
//
// Contract for implementers:
//  * SampleUint8 returns `count` images as one planar uint8 buffer, count×Channels×Height×Width, C order,
//    pixel values as a PNG would store them (0–255). Image i uses seed firstSeed + i alone, so image N is
//    the same whatever the batch size or the call boundaries (NVlabs/edm generate.py: one generator per seed).
//    Metrics call it in chunks (firstSeed = 0, 250, 500, …) to keep memory bounded.
//  * The sampler owns its model and batching; progress reports images finished within the call.
//  * Bad checkpoints (wrong config, missing tensors) throw GenInputException with a one-line fix.
// The registry is the one deliberately process-wide table (a composition-root registration, filled once at
// start-up); it holds factories only, no models.
using System.Collections.Concurrent;
using Gen.Pipeline.Checkpoints;

namespace Gen.Pipeline.Stages;

public interface IImageSampler : IDisposable
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }

    /// <summary>A short description for logs and metric records, e.g. "edm step 12000 (EMA)".</summary>
    string Description { get; }

    /// <summary>`count` images for seeds firstSeed … firstSeed+count−1, as count×C×H×W uint8.</summary>
    byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null);
}

public static class ImageGenerators
{
    private static readonly ConcurrentDictionary<string, Func<string, IImageSampler>> Factories = new(StringComparer.Ordinal);

    /// <summary>Registers the sampler factory for checkpoints of one kind (called by the CLI's composition root).</summary>
    public static void Register(string kind, Func<string, IImageSampler> open) => Factories[kind] = open;

    public static IReadOnlyCollection<string> Kinds => Factories.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();

    /// <summary>The checkpoint kind of a safetensors file written by Gen (null when it has none).</summary>
    public static string? KindOf(string path)
    {
        SafeTensorsFile file = SafeTensors.Read(Checkpoint.ResolvePath(path));
        return file.Metadata.TryGetValue(Checkpoint.KindKey, out string? kind) ? kind : null;
    }

    /// <summary>Opens a generator checkpoint (file or run folder) with the factory registered for its kind.</summary>
    public static IImageSampler Open(string path)
    {
        string file = Checkpoint.ResolvePath(path);
        string? kind = KindOf(file);
        if (kind is null)
            throw new GenInputException($"'{file}' is a safetensors file without Gen metadata; pass a generator checkpoint written by gen");
        if (!Factories.TryGetValue(kind, out var open))
        {
            string known = Factories.IsEmpty ? "none are registered in this build" : "generator kinds: " + string.Join(", ", Kinds);
            throw new GenInputException($"checkpoint '{file}' holds a '{kind}' model, which is not an image generator ({known}); pass a generator checkpoint");
        }
        return open(file);
    }
}
