// Sample grids in the manner of torchvision.utils.make_grid (torchvision 0.14, utils.py): images are
// laid out `nrow` per row with `padding` pixels of `padValue` around and between them, then the
// grid may be upscaled by an integer factor (nearest neighbour, so pixels stay crisp). Optional
// captions are drawn under each cell (used for "prediction / truth" grids).
using SkiaSharp;

namespace Gen.Pipeline.Imaging;

public sealed record GridOptions
{
    public int NRow { get; init; } = 8;          // images per row (torchvision default 8)
    public int Padding { get; init; } = 2;       // torchvision default 2
    public byte PadValue { get; init; } = 0;     // torchvision default 0 (black)
    public int Scale { get; init; } = 1;         // nearest-neighbour upscale factor
}

public sealed record Caption(string Text, SKColor Color);

public static class Grid
{
    /// <summary>Planar grid image (C×H×W) of <paramref name="count"/> images taken from a packed N×C×H×W buffer.</summary>
    public static (byte[] Pixels, int Height, int Width) Compose(ReadOnlySpan<byte> images, int count, int channels,
                                                                  int height, int width, GridOptions? options = null)
    {
        var o = options ?? new GridOptions();
        if (count <= 0) throw new GenInputException("a grid needs at least one image; pass --n 1 or more");
        int xmaps = Math.Min(o.NRow, count);
        int ymaps = (count + xmaps - 1) / xmaps;
        int cellH = height + o.Padding, cellW = width + o.Padding;
        int gh = ymaps * cellH + o.Padding, gw = xmaps * cellW + o.Padding;
        var grid = new byte[channels * gh * gw];
        Array.Fill(grid, o.PadValue);
        int per = channels * height * width;
        for (int k = 0; k < count; k++)
        {
            int y0 = (k / xmaps) * cellH + o.Padding, x0 = (k % xmaps) * cellW + o.Padding;
            var img = images.Slice(k * per, per);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < height; y++)
                    img.Slice((c * height + y) * width, width)
                       .CopyTo(grid.AsSpan((c * gh + y0 + y) * gw + x0, width));
        }
        if (o.Scale > 1) return (Upscale(grid, channels, gh, gw, o.Scale), gh * o.Scale, gw * o.Scale);
        return (grid, gh, gw);
    }

    public static byte[] Upscale(byte[] chw, int channels, int height, int width, int scale)
    {
        int H = height * scale, W = width * scale;
        var dst = new byte[channels * H * W];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    dst[(c * H + y) * W + x] = chw[(c * height + y / scale) * width + x / scale];
        return dst;
    }

    /// <summary>Writes a grid PNG; with captions, each cell gets a text band underneath.</summary>
    public static void WritePng(string path, ReadOnlySpan<byte> images, int count, int channels, int height, int width,
                                GridOptions? options = null, IReadOnlyList<Caption>? captions = null)
    {
        var o = options ?? new GridOptions();
        if (captions is null)
        {
            var (g, gh, gw) = Compose(images, count, channels, height, width, o);
            ImageCodec.WritePng(path, g, channels, gh, gw);
            return;
        }
        if (captions.Count != count) throw new ArgumentException("one caption per image");
        int s = Math.Max(1, o.Scale);
        int xmaps = Math.Min(o.NRow, count), ymaps = (count + xmaps - 1) / xmaps;
        float textSize = 11f;
        int band = (int)Math.Ceiling(textSize * 1.4f);
        int cellW = Math.Max(width * s, 60), cellH = height * s + band;
        int pad = o.Padding * s;
        int W = xmaps * (cellW + pad) + pad, H = ymaps * (cellH + pad) + pad;
        using var surface = new SKBitmap(new SKImageInfo(W, H, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(surface);
        canvas.Clear(new SKColor(o.PadValue, o.PadValue, o.PadValue));
        using var font = new SKFont(SKTypeface.Default, textSize);
        using var paint = new SKPaint { IsAntialias = true };
        int per = channels * height * width;
        for (int k = 0; k < count; k++)
        {
            int x0 = pad + (k % xmaps) * (cellW + pad), y0 = pad + (k / xmaps) * (cellH + pad);
            byte[] up = Upscale(images.Slice(k * per, per).ToArray(), channels, height, width, s);
            using SKBitmap cell = ImageCodec.ToBitmap(up, channels, height * s, width * s);
            using SKImage cellImage = SKImage.FromBitmap(cell);
            canvas.DrawImage(cellImage, x0 + (cellW - width * s) / 2f, y0, new SKSamplingOptions(SKFilterMode.Nearest));
            paint.Color = captions[k].Color;
            canvas.DrawText(captions[k].Text, x0 + cellW / 2f, y0 + height * s + textSize, SKTextAlign.Center, font, paint);
        }
        canvas.Flush();
        using SKData png = surface.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.WriteAllBytes(path, png.ToArray());
    }
}
