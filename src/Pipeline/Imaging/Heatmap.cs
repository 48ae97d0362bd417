// Heat-map rendering for explanations (docs/methods/detection.md "Grad-CAM"): the "hot" colour map
// (black → red → yellow → white), the overlay out = (1−α)·grey→RGB(x) + α·colour(L), and the strip
// input | heat map | overlay. "hot" starts at black, so a pixel the map gives no weight shows the input
// darkened by (1−α) and nothing else: nothing in the overlay is colour that the map did not put there.
namespace Gen.Pipeline.Imaging;

public static class Heatmap
{
    /// <summary>The colour of v ∈ [0,1] (clamped): r = 3v, g = 3v − 1, b = 3v − 2, each clamped to [0,1] (matplotlib's "hot").</summary>
    public static (byte R, byte G, byte B) Hot(double v)
    {
        v = double.IsNaN(v) ? 0 : Math.Clamp(v, 0, 1);
        static byte C(double x) => (byte)Math.Round(255 * Math.Clamp(x, 0, 1));
        return (C(3 * v), C(3 * v - 1), C(3 * v - 2));
    }

    /// <summary>The map (H×W, values in [0,1]) coloured, as planar RGB.</summary>
    public static byte[] Colour(ReadOnlySpan<float> map, int height, int width)
    {
        int plane = height * width;
        if (map.Length != plane) throw new ArgumentException("map does not match the image size");
        var rgb = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            var (r, g, b) = Hot(map[p]);
            rgb[p] = r; rgb[plane + p] = g; rgb[2 * plane + p] = b;
        }
        return rgb;
    }

    /// <summary>A planar 1- or 3-channel image as planar RGB.</summary>
    public static byte[] ToRgb(ReadOnlySpan<byte> chw, int channels, int height, int width)
    {
        int plane = height * width;
        if (channels == 3) return chw.ToArray();
        if (channels != 1) throw new ArgumentException($"1 or 3 channels, got {channels}");
        var rgb = new byte[3 * plane];
        for (int c = 0; c < 3; c++) chw.CopyTo(rgb.AsSpan(c * plane, plane));
        return rgb;
    }

    /// <summary>(1−α)·image + α·colour(map), per pixel and channel, rounded; planar RGB.</summary>
    public static byte[] Overlay(ReadOnlySpan<byte> chw, int channels, ReadOnlySpan<float> map, int height, int width, double alpha)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new GenInputException($"--alpha must be in [0, 1], got {alpha}");
        byte[] rgb = ToRgb(chw, channels, height, width);
        byte[] col = Colour(map, height, width);
        var o = new byte[rgb.Length];
        for (int i = 0; i < o.Length; i++) o[i] = (byte)Math.Round((1 - alpha) * rgb[i] + alpha * col[i]);
        return o;
    }

    /// <summary>input | heat map | overlay side by side (planar RGB, 3 × height × (3·width + 2·gap)), white gaps.</summary>
    public static (byte[] Pixels, int Height, int Width) Strip(ReadOnlySpan<byte> chw, int channels, ReadOnlySpan<float> map,
                                                              int height, int width, double alpha, int gap = 1)
    {
        byte[][] parts = [ToRgb(chw, channels, height, width), Colour(map, height, width), Overlay(chw, channels, map, height, width, alpha)];
        int w = 3 * width + 2 * gap, plane = height * w;
        var strip = new byte[3 * plane];
        Array.Fill(strip, (byte)255);
        for (int k = 0; k < 3; k++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < height; y++)
                    parts[k].AsSpan((c * height + y) * width, width).CopyTo(strip.AsSpan(c * plane + y * w + k * (width + gap), width));
        return (strip, height, w);
    }
}
