using Gen.Pipeline.Imaging;

namespace Gen.Pipeline.Tests.Imaging;

public sealed class GridTests
{
    [Fact]
    public void Compose_MatchesTorchvisionMakeGrid()
    {
        var f = FixtureTensors.Load("imaging.safetensors");
        byte[] images = f["grid_batch"].mul(255).round().to_type(TorchSharp.torch.ScalarType.Byte).data<byte>().ToArray();
        var (grid, h, w) = Grid.Compose(images, 5, 1, 3, 4, new GridOptions { NRow = 3, Padding = 2 });
        // make_grid repeats a grey image to 3 channels; Gen keeps one channel. Compare channel 0.
        var expected = f["grid_nrow3_pad2"][0];
        Assert.Equal(expected.shape, new long[] { h, w });
        byte[] want = expected.mul(255).round().to_type(TorchSharp.torch.ScalarType.Byte).data<byte>().ToArray();
        Assert.Equal(want, grid);
    }

    [Fact]
    public void Upscale_NearestNeighbour()
    {
        byte[] up = Grid.Upscale([1, 2, 3, 4], 1, 2, 2, 2);
        Assert.Equal(new byte[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 }, up);
    }

    [Fact]
    public void WritePng_WithCaptions_ReadsBackAsColourImage()
    {
        using var tmp = new TempDir();
        var px = new byte[4 * 8 * 8];
        Grid.WritePng(tmp.File("g.png"), px, 4, 1, 8, 8, new GridOptions { NRow = 2, Scale = 2 },
                      Enumerable.Range(0, 4).Select(i => new Caption($"c{i}", SkiaSharp.SKColors.Red)).ToList());
        var img = ImageCodec.Decode(tmp.File("g.png"));
        Assert.Equal(3, img.Channels);
        Assert.True(img.Height > 2 * 16);
    }

    [Fact]
    public void ZeroImages_Refused() =>
        Assert.Throws<GenInputException>(() => Grid.Compose([], 0, 1, 2, 2));
}
