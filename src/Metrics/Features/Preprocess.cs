// Image preprocessing of the reference tools, where FID implementations differ (docs/methods/metrics.md §3):
//  * pytorch-fid (default for FID): PIL RGB (grey replicated) → ToTensor (uint8/255, float32) →
//    F.interpolate to 299×299, bilinear, align_corners=False (no antialias) → 2x − 1
//    (fid_score.py ImagePathDataset + inception.py InceptionV3.forward). Same libtorch kernel here.
//  * torch-fidelity (default for IS and KID, needed to reproduce its numbers): uint8 → float32 in [0, 255]
//    → TensorFlow 1.x bilinear resize (source = dest·in/out with no half-pixel shift, upper index clamped)
//    → (x − 128)/128 (torch_fidelity/interpolate_compat_tensorflow.py `resample_manually`,
//    feature_extractor_inceptionv3.py `forward`), reproduced operation by operation in float32.
using Gen.Pipeline;
using static TorchSharp.torch;

namespace Gen.Metrics.Features;

public enum Preprocessing { PytorchFid, TorchFidelity }

public static class Preprocess
{
    public const int InceptionSize = 299;

    public static string Describe(Preprocessing p) => p switch
    {
        Preprocessing.PytorchFid => "pytorch-fid: grey→RGB, /255, bilinear 299×299 (align_corners=False), 2x−1",
        _ => "torch-fidelity: grey→RGB, TF1 bilinear 299×299 on 0–255, (x−128)/128",
    };

    public static string Id(Preprocessing p) => p == Preprocessing.PytorchFid ? "pytorch-fid" : "torch-fidelity";

    public static Preprocessing Parse(string text) => text.ToLowerInvariant() switch
    {
        "pytorch-fid" => Preprocessing.PytorchFid,
        "torch-fidelity" => Preprocessing.TorchFidelity,
        _ => throw new GenInputException($"--preprocess takes pytorch-fid or torch-fidelity, got '{text}'"),
    };

    /// <summary>uint8 B×C×H×W (C = 1 or 3) → float32 B×3×299×299 as the chosen tool feeds its Inception.</summary>
    public static Tensor ForInception(Tensor u8, Preprocessing p)
    {
        if (u8.dim() != 4 || u8.shape[1] is not (1 or 3))
            throw new GenInputException($"images must be grey or RGB (1 or 3 channels), got a batch of shape [{string.Join(", ", u8.shape)}]");
        using var scope = NewDisposeScope();
        Tensor x = u8.to_type(ScalarType.Float32);
        if (x.shape[1] == 1) x = x.expand(-1, 3, -1, -1);
        Tensor y = p == Preprocessing.PytorchFid
            ? nn.functional.interpolate(x.div(255.0), [InceptionSize, InceptionSize], mode: InterpolationMode.Bilinear, align_corners: false).mul(2).sub(1)
            : ResizeTf1(x, InceptionSize, InceptionSize).sub(128).div(128);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>TensorFlow 1.x `resize_bilinear(align_corners=False)` as torch-fidelity's `resample_manually`.</summary>
    public static Tensor ResizeTf1(Tensor x, int outH, int outW)
    {
        using var scope = NewDisposeScope();
        var (yLo, yHi, dy) = Grid(x.shape[2], outH);
        var (xLo, xHi, dx) = Grid(x.shape[3], outW);
        Tensor rowsLo = x.index_select(2, yLo), rowsHi = x.index_select(2, yHi);
        Tensor i00 = rowsLo.index_select(3, xLo), i01 = rowsLo.index_select(3, xHi);
        Tensor i10 = rowsHi.index_select(3, xLo), i11 = rowsHi.index_select(3, xHi);
        Tensor wx = dx.view(1, 1, 1, outW), wy = dy.view(1, 1, outH, 1);
        Tensor i0 = i00 + (i01 - i00) * wx;
        Tensor i1 = i10 + (i11 - i10) * wx;
        return (i0 + (i1 - i0) * wy).MoveToOuterDisposeScope();
    }

    private static (Tensor Lo, Tensor Hi, Tensor Frac) Grid(long inSize, int outSize)
    {
        // grid = arange(out, float32) · float32(in/out); lo = trunc; hi = min(lo + 1, in − 1); frac = grid − lo.
        float scale = (float)((double)inSize / outSize);
        Tensor g = arange(0, outSize, 1, ScalarType.Float32) * tensor(scale);
        Tensor lo = g.to_type(ScalarType.Int64);
        Tensor hi = (lo + 1).clamp_max(inSize - 1);
        return (lo, hi, g - lo.to_type(ScalarType.Float32));
    }
}
