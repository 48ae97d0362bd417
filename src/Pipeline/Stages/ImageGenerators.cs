// Opening a generator checkpoint for consumers that only need images (metrics, fid-curve): through the
// process-wide method registry (MethodRegistry.Current, set by the composition root), or through a
// factory registered for a kind (tests register fakes this way). Contract of the samplers: see
// Methods/Capabilities.cs.
using System.Collections.Concurrent;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Methods;

namespace Gen.Pipeline.Stages;

public static class ImageGenerators
{
    private static readonly ConcurrentDictionary<string, Func<string, IImageSampler>> Factories = new(StringComparer.Ordinal);

    /// <summary>Registers a sampler factory for checkpoints of one kind, ahead of the registry (tests).</summary>
    public static void Register(string kind, Func<string, IImageSampler> open) => Factories[kind] = open;

    /// <summary>The checkpoint kind of a safetensors file written by Gen (null when it has none).</summary>
    public static string? KindOf(string path)
    {
        var metadata = SafeTensors.ReadMetadata(Checkpoint.ResolvePath(path));   // the header only
        return metadata.TryGetValue(Checkpoint.KindKey, out string? kind) ? kind : null;
    }

    /// <summary>Opens a generator checkpoint (file or run folder).</summary>
    public static IImageSampler Open(string path)
    {
        if (Onnx.OnnxModels.IsOnnxPath(path))
            return (MethodRegistry.Current ?? throw new InvalidOperationException("no method registry")).Open<IImageSampler>(path, "sample images: it is not an exported generator");
        string file = Checkpoint.ResolvePath(path);
        string? kind = KindOf(file)
            ?? throw new GenInputException($"'{file}' is a safetensors file without Gen metadata; pass a generator checkpoint written by gen");
        if (Factories.TryGetValue(kind, out var open)) return open(file);
        if (MethodRegistry.Current is { } registry) return registry.Open<IImageSampler>(file, "sample images: it is not an image generator");
        throw new GenInputException($"checkpoint '{file}' holds a '{kind}' model, which is not an image generator (none are registered in this build); pass a generator checkpoint");
    }
}
