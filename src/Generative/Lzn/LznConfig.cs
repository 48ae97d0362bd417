// Configuration of a Latent Zoning Network run (docs/methods/lzn.md): the variant (the joint model or
// one of its two fair baselines), the image shape and classes, the networks' sizes and the flows'
// settings. Stored as the checkpoint's gen.config; a resumed run must match it.
using System.Text.Json.Serialization;
using Gen.Pipeline;
using Gen.Pipeline.Data;

namespace Gen.Generative.Lzn;

public sealed record LznConfig
{
    /// <summary>The joint model: image encoder, image decoder and label anchors in one latent space.</summary>
    public const string Joint = "lzn";
    /// <summary>Baseline: the same encoder with a linear head, trained with cross-entropy.</summary>
    public const string Clf = "clf";
    /// <summary>Baseline: the same decoder conditioned on the one-hot label only (a label-conditional rectified flow).</summary>
    public const string Rf = "rf";

    public string Variant { get; init; } = Joint;
    public int InChannels { get; init; } = 1;
    public int ImageSize { get; init; } = 28;
    public int Classes { get; init; } = 10;
    public string[] ClassNames { get; init; } = [];
    public string Dataset { get; init; } = "";
    public bool Flip { get; init; } = true;

    public int LatentDim { get; init; } = 32;

    /// <summary>The training batch size: each latent's zone has mass 1/B, so classification uses chunks of B by default.</summary>
    public int TrainBatch { get; init; } = 64;

    // Image encoder: a stem at full size, then per further width a stride-2 4×4 conv and a 3×3 conv;
    // one head: 1×1 conv to HeadChannels, flatten, Linear HeadHidden, SiLU, Linear LatentDim.
    public int[] EncoderWidths { get; init; } = [32, 64, 128];
    public int HeadChannels { get; init; } = 8;
    public int HeadHidden { get; init; } = 256;

    // Image decoder: a U-Net with one residual block per level and a middle block, conditioned on
    // [z, one-hot label, sinusoidal embedding of 999t] through an MLP of width CondDim.
    public int[] DecoderWidths { get; init; } = [32, 64, 64];
    public int CondDim { get; init; } = 128;
    public int TimeEmbedDim { get; init; } = 64;
    public int Groups { get; init; } = 8;

    // Latent flows: the image flow (latents of the batch's images) by Heun; the label flow backwards by
    // Euler for the label loss and classification; the label flow forwards by Heun for generation.
    public int ImageFlowSteps { get; init; } = 10;
    public double ImageFlowT0 { get; init; } = 1e-3;
    public int LabelFlowSteps { get; init; } = 20;
    public double LabelFlowT0 { get; init; } = 1e-4;
    public double LabelLossCut { get; init; } = 0.2;
    public int SampleLabelSteps { get; init; } = 10;

    // Rectified flow of the decoder: t ~ U[RecT0, 1], sampling by Euler from RecT0 to 1.
    public double RecT0 { get; init; } = 1e-3;
    public int SampleImageSteps { get; init; } = 30;

    [JsonIgnore] public bool HasEncoder => Variant is Joint or Clf;
    [JsonIgnore] public bool HasDecoder => Variant is Joint or Rf;
    [JsonIgnore] public bool HasAnchors => Variant == Joint;

    /// <summary>The checkpoint kind of this variant.</summary>
    [JsonIgnore]
    public string Kind => KindOf(Variant);

    /// <summary>lzn for the joint model, lzn-clf and lzn-rf for the baselines.</summary>
    public static string KindOf(string variant) => variant == Joint ? LznMethod.KindName : LznMethod.KindName + "-" + variant;

    public void Validate()
    {
        if (Variant is not (Joint or Clf or Rf)) throw new GenInputException($"--baseline takes none, clf or rf, got '{Variant}'");
        if (InChannels is not (1 or 3)) throw new GenInputException($"lzn takes 1- or 3-channel images, got {InChannels}");
        if (Classes < 2) throw new GenInputException($"lzn needs labelled images of at least two classes, got {Classes}");
        if (TrainBatch < 1) throw new GenInputException($"--batch must be positive, got {TrainBatch}");
        if (LatentDim < 1) throw new GenInputException($"--latent-dim must be at least 1, got {LatentDim}");
        if (ImageSize % 4 != 0 || ImageSize < 8) throw new GenInputException($"lzn's networks halve the image twice; the image size must be a multiple of 4 and at least 8, got {ImageSize}");
        if (EncoderWidths.Length != 3 || DecoderWidths.Length != 3 || EncoderWidths.Concat(DecoderWidths).Any(w => w < Groups || w % Groups != 0))
            throw new GenInputException($"lzn's encoder and decoder take three widths, each a multiple of the {Groups} normalisation groups");
        if (HeadChannels < 1 || HeadHidden < 1 || CondDim < 1 || TimeEmbedDim < 2 || TimeEmbedDim % 2 != 0)
            throw new GenInputException("lzn's head and conditioning sizes must be positive (the time embedding even)");
        if (ImageFlowSteps < 1 || LabelFlowSteps < 1 || SampleLabelSteps < 1 || SampleImageSteps < 1)
            throw new GenInputException("every lzn flow needs at least one step");
        if (!(ImageFlowT0 > 0 && ImageFlowT0 < 1) || !(LabelFlowT0 > 0 && LabelFlowT0 < 1) || !(RecT0 >= 0 && RecT0 < 1))
            throw new GenInputException("the flows' start times must lie in (0, 1)");
        if (!(LabelLossCut >= 0 && LabelLossCut < 1)) throw new GenInputException($"--label-loss-cut must be in [0, 1), got {LabelLossCut}");
    }

    /// <summary>Shape, classes and flip of the training set.</summary>
    public static LznConfig For(ImageSet train, string dataRef) => new()
    {
        InChannels = train.Channels,
        ImageSize = train.Height,
        Classes = train.ClassCount,
        ClassNames = train.ClassNames.ToArray(),
        Dataset = dataRef,
        Flip = !train.Name.StartsWith("mnist", StringComparison.OrdinalIgnoreCase),   // digits must not be mirrored
    };
}
