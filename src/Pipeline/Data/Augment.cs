// Batched image augmentations on float B×C×H×W tensors in [0,1]. Every random draw comes from the
// Generator passed in, so a batch's augmentation is reproducible from (seed, step). Definitions
// follow torchvision 0.14 (transforms.py, functional_tensor.py) per image; differences are noted.
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;
using TorchSharp;

namespace Gen.Pipeline.Data;

public static class Augment
{
    // ITU-R 601-2 luma with torchvision's rounding of the red weight (functional_tensor.rgb_to_grayscale
    // uses 0.2989, PIL uses 0.299); we match torchvision's tensor path.
    private const double LumaR = 0.2989, LumaG = 0.587, LumaB = 0.114;

    private static double[] Uniform(Generator g, long count)
    {
        using Tensor u = rand([count], ScalarType.Float64, generator: g);
        return u.data<double>().ToArray();
    }

    /// <summary>RandomCrop(size = input size, padding) with zero padding: each image is shifted by up to ±padding pixels.</summary>
    public static Tensor RandomCropWithPadding(Tensor x, int padding, Generator g)
    {
        if (padding <= 0) return x.alias();
        long b = x.shape[0], h = x.shape[2], w = x.shape[3];
        double[] u = Uniform(g, 2 * b);
        using Tensor padded = pad(x, [padding, padding, padding, padding]);
        var crops = new Tensor[b];
        try
        {
            for (long i = 0; i < b; i++)
            {
                long top = (long)(u[2 * i] * (2 * padding + 1)), left = (long)(u[2 * i + 1] * (2 * padding + 1));
                crops[i] = padded[i].narrow(1, top, h).narrow(2, left, w);
            }
            return stack(crops);
        }
        finally { foreach (var c in crops) c?.Dispose(); }
    }

    /// <summary>RandomHorizontalFlip(p): each image is mirrored left–right with probability p.</summary>
    public static Tensor HorizontalFlip(Tensor x, double p, Generator g)
    {
        using var scope = NewDisposeScope();
        Tensor mask = rand([x.shape[0], 1, 1, 1], generator: g).lt(p);
        return where(mask, x.flip(3), x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RandomResizedCrop(size, scale, ratio): torchvision's box sampling (area uniform in scale, log-ratio
    /// uniform, 10 tries, then a centre crop with the ratio clamped), then each box resized bilinearly
    /// (align_corners=False, no antialiasing, as torchvision 0.14's tensor path).
    /// </summary>
    public static Tensor RandomResizedCrop(Tensor x, int size, Generator g, double scaleMin = 0.08, double scaleMax = 1.0,
                                           double ratioMin = 3.0 / 4.0, double ratioMax = 4.0 / 3.0)
    {
        long b = x.shape[0];
        int H = (int)x.shape[2], W = (int)x.shape[3];
        const int Tries = 10;
        double[] u = Uniform(g, b * (Tries * 4));
        double area = (double)H * W, logR0 = Math.Log(ratioMin), logR1 = Math.Log(ratioMax);
        var crops = new Tensor[b];
        try
        {
            for (long n = 0; n < b; n++)
            {
                int bh = 0, bw = 0, top = 0, left = 0;
                bool found = false;
                for (int t = 0; t < Tries && !found; t++)
                {
                    long k = (n * Tries + t) * 4;
                    double target = area * (scaleMin + (scaleMax - scaleMin) * u[k]);
                    double ratio = Math.Exp(logR0 + (logR1 - logR0) * u[k + 1]);
                    int cw = (int)Math.Round(Math.Sqrt(target * ratio)), ch = (int)Math.Round(Math.Sqrt(target / ratio));
                    if (cw > 0 && cw <= W && ch > 0 && ch <= H)
                    {
                        top = (int)(u[k + 2] * (H - ch + 1));
                        left = (int)(u[k + 3] * (W - cw + 1));
                        bh = ch; bw = cw; found = true;
                    }
                }
                if (!found)
                {
                    double inRatio = (double)W / H;
                    if (inRatio < ratioMin) { bw = W; bh = (int)Math.Round(bw / ratioMin); }
                    else if (inRatio > ratioMax) { bh = H; bw = (int)Math.Round(bh * ratioMax); }
                    else { bw = W; bh = H; }
                    top = (H - bh) / 2; left = (W - bw) / 2;
                }
                crops[n] = ResizedCrop(x.narrow(0, n, 1), top, left, bh, bw, size);
            }
            return cat(crops, 0);
        }
        finally { foreach (var c in crops) c?.Dispose(); }
    }

    /// <summary>torchvision resized_crop: the box (top, left, height, width) resized bilinearly to size×size.</summary>
    public static Tensor ResizedCrop(Tensor x, int top, int left, int height, int width, int size)
    {
        using var scope = NewDisposeScope();
        Tensor box = x.narrow(2, top, height).narrow(3, left, width);
        if (height == size && width == size) return box.clone().MoveToOuterDisposeScope();
        return interpolate(box, [size, size], mode: InterpolationMode.Bilinear, align_corners: false).MoveToOuterDisposeScope();
    }

    public static Tensor Grayscale(Tensor x)
    {
        if (x.shape[1] == 1) return x.alias();
        using var scope = NewDisposeScope();
        Tensor gray = x[.., 0..1] * LumaR + x[.., 1..2] * LumaG + x[.., 2..3] * LumaB;
        return gray.MoveToOuterDisposeScope();
    }

    /// <summary>RandomGrayscale(p): colour images become grey (kept at 3 channels) with probability p.</summary>
    public static Tensor RandomGrayscale(Tensor x, double p, Generator g)
    {
        if (x.shape[1] == 1 || p <= 0) return x.alias();
        using var scope = NewDisposeScope();
        Tensor mask = rand([x.shape[0], 1, 1, 1], generator: g).lt(p);
        Tensor gray = Grayscale(x).expand_as(x);
        return where(mask, gray, x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// ColorJitter(brightness, contrast, saturation, hue) applied to each image with probability p.
    /// Factors are drawn per image: U[1−x, 1+x], hue shift U[−h, h]. The order of the four operations is
    /// random per batch (torchvision draws it per image). Saturation and hue do nothing on grey images.
    /// </summary>
    public static Tensor ColorJitter(Tensor x, double brightness, double contrast, double saturation, double hue,
                                     double p, Generator g)
    {
        long b = x.shape[0];
        double[] u = Uniform(g, b * 5 + 4);
        bool rgb = x.shape[1] == 3;
        int[] order = [0, 1, 2, 3];
        for (int i = 3; i > 0; i--) { int j = (int)(u[b * 5 + i] * (i + 1)); (order[i], order[j]) = (order[j], order[i]); }
        Tensor Factors(int k, double spread, double center) =>
            tensor(Enumerable.Range(0, (int)b).Select(n => (float)(center - spread + 2 * spread * u[n * 5 + k])).ToArray(),
                   [b, 1, 1, 1]).to(x.device);

        using var scope = NewDisposeScope();
        Tensor y = x;
        foreach (int op in order)
        {
            switch (op)
            {
                case 0 when brightness > 0:
                    y = (y * Factors(0, brightness, 1)).clamp(0, 1);
                    break;
                case 1 when contrast > 0:
                    Tensor mean = Grayscale(y).mean([1, 2, 3], keepdim: true);
                    y = Blend(y, mean, Factors(1, contrast, 1));
                    break;
                case 2 when saturation > 0 && rgb:
                    y = Blend(y, Grayscale(y), Factors(2, saturation, 1));
                    break;
                case 3 when hue > 0 && rgb:
                    y = AdjustHue(y, Factors(3, hue, 0));
                    break;
            }
        }
        Tensor apply = tensor(Enumerable.Range(0, (int)b).Select(n => u[n * 5 + 4] < p).ToArray(), [b, 1, 1, 1]).to(x.device);
        return where(apply, y, x).MoveToOuterDisposeScope();
    }

    private static Tensor Blend(Tensor img, Tensor other, Tensor factor) =>
        (img * factor + other * (1 - factor)).clamp(0, 1);

    /// <summary>Hue rotation through HSV (torchvision functional_tensor _rgb2hsv / _hsv2rgb).</summary>
    public static Tensor AdjustHue(Tensor x, Tensor shift)
    {
        using var scope = NewDisposeScope();
        Tensor r = x[.., 0], gch = x[.., 1], bch = x[.., 2];
        Tensor maxc = maximum(maximum(r, gch), bch), minc = minimum(minimum(r, gch), bch);
        Tensor eqc = maxc.eq(minc);
        Tensor cr = maxc - minc;
        Tensor ones = ones_like(maxc);
        Tensor s = cr / where(eqc, ones, maxc);
        Tensor crDiv = where(eqc, ones, cr);
        Tensor rc = (maxc - r) / crDiv, gc = (maxc - gch) / crDiv, bc = (maxc - bch) / crDiv;
        Tensor hr = maxc.eq(r).to_type(x.dtype) * (bc - gc);
        Tensor hg = (maxc.eq(gch) & maxc.ne(r)).to_type(x.dtype) * (2.0 + rc - bc);
        Tensor hb = (maxc.ne(gch) & maxc.ne(r)).to_type(x.dtype) * (4.0 + gc - rc);
        Tensor h = ((hr + hg + hb) / 6.0 + 1.0).fmod(1.0);
        h = (h + shift.squeeze(1)).remainder(1.0);
        Tensor v = maxc;

        Tensor i6 = (h * 6.0).floor();
        Tensor f = h * 6.0 - i6;
        Tensor idx = i6.to_type(ScalarType.Int64).remainder(6);
        Tensor pp = (v * (1.0 - s)).clamp(0, 1);
        Tensor q = (v * (1.0 - s * f)).clamp(0, 1);
        Tensor t = (v * (1.0 - s * (1.0 - f))).clamp(0, 1);
        Tensor mask = idx.unsqueeze(1).eq(arange(6, device: x.device).view(1, 6, 1, 1)).to_type(x.dtype);
        Tensor outR = (mask * stack([v, q, pp, pp, t, v], 1)).sum(1);
        Tensor outG = (mask * stack([t, v, v, q, pp, pp], 1)).sum(1);
        Tensor outB = (mask * stack([pp, pp, t, v, v, q], 1)).sum(1);
        return stack([outR, outG, outB], 1).MoveToOuterDisposeScope();
    }

    /// <summary>Rotates every image by k·90° counter-clockwise (torch.rot90 over H, W).</summary>
    public static Tensor Rotate90(Tensor x, int k) => x.rot90(k, (2, 3));

    /// <summary>RotNet input: the batch rotated by 0°, 90°, 180°, 270°, concatenated, with labels 0..3.</summary>
    public static (Tensor Images, Tensor Labels) AllRotations(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        Tensor images = cat([x, Rotate90(x, 1), Rotate90(x, 2), Rotate90(x, 3)], 0);
        Tensor labels = arange(4, ScalarType.Int64, x.device).repeat_interleave(b);
        return (images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>(x − mean) / std per channel.</summary>
    public static Tensor Normalize(Tensor x, IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        using var scope = NewDisposeScope();
        long c = x.shape[1];
        if (mean.Count != c || std.Count != c)
            throw new ArgumentException($"normalisation has {mean.Count} means for {c} channels");
        Tensor m = tensor(mean.Select(v => (float)v).ToArray(), [1, c, 1, 1]).to(x.device).to_type(x.dtype);
        Tensor s = tensor(std.Select(v => (float)v).ToArray(), [1, c, 1, 1]).to(x.device).to_type(x.dtype);
        return ((x - m) / s).MoveToOuterDisposeScope();
    }
}
