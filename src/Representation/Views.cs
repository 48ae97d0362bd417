// Augmented views for pretraining, built from the foundation's batched augmentations (Gen.Pipeline.Data.
// Augment), every draw from the step's Generator. Contrastive views (docs/methods/representation.md §2.2, §6): RandomResizedCrop →
// flip → colour jitter (p) → random grey (RGB only) → normalise; no blur (D-2) and no solarisation. The
// crop-and-flip view (RotNet before rotating, §3.1; the supervised ceiling): random crop with zero
// padding → flip → normalise.
using Gen.Pipeline.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation;

public static class Views
{
    public static Tensor Contrastive(Tensor images01, PretrainConfig c, Generator g)
    {
        using var scope = NewDisposeScope();
        ViewConfig v = c.Views;
        Tensor x = Augment.RandomResizedCrop(images01, c.ImageSize, g, scaleMin: v.CropScaleMin);
        if (v.FlipP > 0) x = Augment.HorizontalFlip(x, v.FlipP, g);
        if (v.JitterP > 0 && (v.Brightness > 0 || v.Contrast > 0 || v.Saturation > 0 || v.Hue > 0))
            x = Augment.ColorJitter(x, v.Brightness, v.Contrast, v.Saturation, v.Hue, v.JitterP, g);
        if (v.GrayP > 0) x = Augment.RandomGrayscale(x, v.GrayP, g);
        return Augment.Normalize(x, c.Mean, c.Std).MoveToOuterDisposeScope();
    }

    public static Tensor CropFlip(Tensor images01, PretrainConfig c, Generator g)
    {
        using var scope = NewDisposeScope();
        Tensor x = Augment.RandomCropWithPadding(images01, c.CropPadding, g);
        x = Augment.HorizontalFlip(x, 0.5, g);
        return Augment.Normalize(x, c.Mean, c.Std).MoveToOuterDisposeScope();
    }

    /// <summary>Un-augmented, normalised input (probes, the kNN monitor).</summary>
    public static Tensor Plain(Tensor images01, PretrainConfig c) => Augment.Normalize(images01, c.Mean, c.Std);
}
