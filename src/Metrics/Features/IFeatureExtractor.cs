// A feature network for FID/IS/KID: uint8 images in, one feature layer out. Every metric result carries
// the extractor's description (network, layer, weights hash, preprocessing, dtype), so a number never
// travels without what produced it.
using static TorchSharp.torch;

namespace Gen.Metrics.Features;

public enum ExtractorKind { Inception, Fmnist }

public enum FeatureDType { Float32, BFloat16 }

public sealed record ExtractorInfo
{
    public required ExtractorKind Kind { get; init; }
    public required string Network { get; init; }        // e.g. "pytorch-fid Inception v3 (pt_inception-2015-12-05)"
    public required string Layer { get; init; }          // "pool3", "pool_64", "logits_unbiased", "gap128"
    public required int Dims { get; init; }
    public required string WeightsSha256 { get; init; }
    public required bool StandardWeights { get; init; }  // the pinned published file (comparable with papers)
    public required string Preprocessing { get; init; }
    public FeatureDType DType { get; init; } = FeatureDType.Float32;

    /// <summary>Where the network runs: "torch" or "onnx DEVICE" (docs/deploy.md §7). Not part of the
    /// extractor's identity in statistics files: both engines give the same features to float32 rounding.</summary>
    public string Engine { get; init; } = "torch";

    /// <summary>"FID" for Inception features; "FD-FMNIST" (Fréchet distance in the domain network's space) otherwise.</summary>
    public string FrechetLabel => Kind == ExtractorKind.Inception ? "FID" : "FD-FMNIST";

    public string ShortHash => WeightsSha256[..Math.Min(8, WeightsSha256.Length)];

    /// <summary>What results are comparable with.</summary>
    public string Note => Kind == ExtractorKind.Fmnist
        ? "FD-FMNIST: Fréchet distance in the features of Gen's Fashion-MNIST classifier; not comparable with Inception FID"
        : StandardWeights ? "comparable with pytorch-fid / torch-fidelity at the same N and preprocessing"
                          : "Inception architecture with non-standard weights: not comparable with published FID";
}

public interface IFeatureExtractor : IDisposable
{
    ExtractorInfo Info { get; }

    /// <summary>Features of a uint8 B×C×H×W batch as float32 B×Dims (the caller disposes the result).</summary>
    Tensor Features(Tensor images);

    /// <summary>Names of extra outputs computed in the same forward pass (e.g. the Inception's logits for IS beside pool3).</summary>
    IReadOnlyList<string> Extras => [];

    /// <summary>Features, then one float32 B×k tensor per extra output, from one forward pass.</summary>
    Tensor[] FeaturesAndExtras(Tensor images) => [Features(images)];

    /// <summary>How images of this shape are adapted to the network (null when used as they are), for a one-time notice.</summary>
    string? Adapts(int channels, int height, int width) => null;
}
