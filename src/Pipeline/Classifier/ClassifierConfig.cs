// Configuration of the supervised image classifier: its ResNet, input normalisation and the
// standard augmentation for its dataset. Stored as the checkpoint's gen.config.
using Gen.Pipeline.Data;
using Gen.Pipeline.Models;

namespace Gen.Pipeline.Classifier;

public enum AugmentationKind
{
    None,
    Crop,      // random crop with zero padding (MNIST: digits must not be mirrored)
    CropFlip,  // random crop with padding + horizontal flip (CIFAR standard, He et al. 2016 §4.2; Fashion-MNIST)
}

public sealed record ClassifierConfig
{
    public required ResNetConfig ResNet { get; init; }
    public required double[] Mean { get; init; }
    public required double[] Std { get; init; }
    public AugmentationKind Augmentation { get; init; } = AugmentationKind.CropFlip;
    public int CropPadding { get; init; } = 2;
    public double LabelSmoothing { get; init; } = 0.0;
    public string[] ClassNames { get; init; } = [];
    public int ImageSize { get; init; } = 28;
    public string Dataset { get; init; } = "";

    /// <summary>The standard recipe for a dataset: normalisation from its training images, augmentation by kind.</summary>
    public static ClassifierConfig For(ImageSet train, ResNetConfig? resnet = null)
    {
        var (mean, std) = train.ChannelStats();
        bool digits = train.Name.StartsWith("mnist", StringComparison.OrdinalIgnoreCase);
        return new ClassifierConfig
        {
            ResNet = (resnet ?? new ResNetConfig()) with { InChannels = train.Channels, Classes = Math.Max(train.ClassCount, 2) },
            Mean = mean.Select(m => Math.Round(m, 4)).ToArray(),
            Std = std.Select(s => Math.Round(s, 4)).ToArray(),
            Augmentation = digits ? AugmentationKind.Crop : AugmentationKind.CropFlip,
            // 4 px on 32 px images (He et al. 2016 §4.2); 2 px on 28 px images keeps the same ~1/8 ratio.
            CropPadding = train.Height >= 32 ? 4 : 2,
            ClassNames = train.ClassNames.ToArray(),
            ImageSize = train.Height,
            Dataset = train.Name,
        };
    }

    public void Validate()
    {
        ResNet.Validate();
        if (Mean.Length != ResNet.InChannels || Std.Length != ResNet.InChannels)
            throw new GenInputException("classifier normalisation must have one mean and std per input channel");
        if (Std.Any(s => !(s > 0))) throw new GenInputException("classifier normalisation std must be positive");
        if (CropPadding < 0) throw new GenInputException($"crop padding must be zero or positive, got {CropPadding}");
        if (LabelSmoothing < 0 || LabelSmoothing >= 1) throw new GenInputException($"--label-smoothing must be in [0, 1), got {LabelSmoothing}");
    }
}
