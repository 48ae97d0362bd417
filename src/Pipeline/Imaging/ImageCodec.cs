// PNG/JPEG decoding and PNG encoding through SkiaSharp, to and from planar uint8 (C×H×W) buffers.
// Grey images stay one channel; colour images become RGB (alpha is dropped).
using SkiaSharp;

namespace Gen.Pipeline.Imaging;

public sealed record DecodedImage(byte[] Pixels, int Channels, int Height, int Width);

public static class ImageCodec
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg"];

    /// <summary>The largest side and pixel count Gen decodes. A header may declare any size (up to
    /// 2³¹ per side in PNG); checking it before allocating turns a hostile or broken file into a
    /// one-line error instead of an overflow deep inside the decoder.</summary>
    public const int MaxSide = 16384;
    public const long MaxPixels = 64L * 1024 * 1024;

    public static bool IsImageFile(string path) =>
        Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static DecodedImage Decode(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (IOException e) { throw new GenInputException($"cannot read image '{path}': {e.Message}", e); }
        return Decode(bytes, path);
    }

    public static DecodedImage Decode(byte[] bytes, string nameForErrors)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data);
        if (codec is null)
            throw new GenInputException($"cannot decode image '{nameForErrors}': not a valid PNG or JPEG file; remove or replace it");
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0)
            throw new GenInputException($"image '{nameForErrors}' has size {w}x{h}; remove or replace it");
        if (w > MaxSide || h > MaxSide || (long)w * h > MaxPixels)
            throw new GenInputException($"image '{nameForErrors}' declares {w}x{h} pixels, over Gen's limit of {MaxSide} per side and {MaxPixels / (1024 * 1024)} M pixels; resize it or remove it from the folder");
        bool grey = codec.Info.ColorType == SKColorType.Gray8;
        var info = grey
            ? new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque)
            : new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var buffer = new byte[info.BytesSize];
        var handle = System.Runtime.InteropServices.GCHandle.Alloc(buffer, System.Runtime.InteropServices.GCHandleType.Pinned);
        SKCodecResult result;
        try { result = codec.GetPixels(info, handle.AddrOfPinnedObject()); }
        finally { handle.Free(); }
        if (result != SKCodecResult.Success)
            throw new GenInputException($"cannot decode image '{nameForErrors}': {result} (the file is truncated or corrupt); remove or replace it");
        if (grey) return new DecodedImage(buffer, 1, h, w);
        int plane = w * h;
        var chw = new byte[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            chw[p] = buffer[4 * p];
            chw[plane + p] = buffer[4 * p + 1];
            chw[2 * plane + p] = buffer[4 * p + 2];
        }
        return new DecodedImage(chw, 3, h, w);
    }

    /// <summary>Encodes a planar C×H×W image (C = 1 or 3) as PNG bytes.</summary>
    public static byte[] EncodePng(ReadOnlySpan<byte> chw, int channels, int height, int width)
    {
        using SKBitmap bmp = ToBitmap(chw, channels, height, width);
        using SKData png = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    public static void WritePng(string path, ReadOnlySpan<byte> chw, int channels, int height, int width) =>
        AtomicFile.WriteAllBytes(path, EncodePng(chw, channels, height, width));

    internal static SKBitmap ToBitmap(ReadOnlySpan<byte> chw, int channels, int height, int width)
    {
        if (channels != 1 && channels != 3)
            throw new ArgumentException($"PNG output takes 1 or 3 channels, got {channels}");
        if (chw.Length != channels * height * width)
            throw new ArgumentException("pixel buffer does not match the image size");
        int plane = height * width;
        SKBitmap bmp;
        if (channels == 1)
        {
            bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque));
            chw.CopyTo(bmp.GetPixelSpan());
        }
        else
        {
            bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
            Span<byte> dst = bmp.GetPixelSpan();
            for (int p = 0; p < plane; p++)
            {
                dst[4 * p] = chw[p];
                dst[4 * p + 1] = chw[plane + p];
                dst[4 * p + 2] = chw[2 * plane + p];
                dst[4 * p + 3] = 255;
            }
        }
        return bmp;
    }
}
