using Gen.Pipeline.Imaging;
using SkiaSharp;

namespace Gen.Pipeline.Tests.Imaging;

public sealed class ImageCodecTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Png_RoundTripIsLossless(int channels)
    {
        var px = Enumerable.Range(0, channels * 5 * 7).Select(i => (byte)(i * 37 % 256)).ToArray();
        var img = ImageCodec.Decode(ImageCodec.EncodePng(px, channels, 5, 7), "mem");
        Assert.Equal((channels, 5, 7), (img.Channels, img.Height, img.Width));
        Assert.Equal(px, img.Pixels);
    }

    [Fact]
    public void Jpeg_DecodesToRgb()
    {
        using var bmp = new SKBitmap(new SKImageInfo(6, 4, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bmp.Erase(new SKColor(200, 10, 10));
        using var data = bmp.Encode(SKEncodedImageFormat.Jpeg, 95);
        var img = ImageCodec.Decode(data.ToArray(), "x.jpg");
        Assert.Equal((3, 4, 6), (img.Channels, img.Height, img.Width));
        Assert.InRange(img.Pixels[0], 180, 220);       // red plane
        Assert.InRange(img.Pixels[24], 0, 40);         // green plane
    }

    [Fact]
    public void Garbage_Refused_WithName()
    {
        var e = Assert.Throws<GenInputException>(() => ImageCodec.Decode([1, 2, 3, 4, 5], "junk.png"));
        Assert.Contains("junk.png", e.Message);
    }

    [Fact]
    public void HeaderDeclaringHugeSize_RefusedBeforeAllocating()
    {
        var e = Assert.Throws<GenInputException>(() => ImageCodec.Decode(Gen.Testing.BrokenImages.PngDeclaring(60000, 60000), "huge.png"));
        Assert.Contains("huge.png", e.Message);
        Assert.Contains("60000x60000", e.Message);
        Assert.Contains(ImageCodec.MaxSide.ToString(), e.Message);
        // The helper's header is otherwise valid: a small declared size gets past the size check to the
        // decoder, which then reports the missing pixel data.
        var small = Assert.Throws<GenInputException>(() => ImageCodec.Decode(Gen.Testing.BrokenImages.PngDeclaring(8, 8), "small.png"));
        Assert.DoesNotContain("limit", small.Message);
    }
}
