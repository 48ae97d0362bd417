using Gen.Pipeline.Data;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Data;

public sealed class AugmentTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(-0.3)]
    [InlineData(0.45)]
    public void AdjustHue_MatchesTorchvision(double shift)
    {
        var f = FixtureTensors.Load("imaging.safetensors");
        using var img = f["image"].unsqueeze(0);
        using var s = full([1, 1, 1, 1], shift);
        using var got = Augment.AdjustHue(img, s).squeeze(0);
        FixtureTensors.AssertClose(f[$"hue_{shift.ToString(System.Globalization.CultureInfo.InvariantCulture)}"], got, 1e-5);
    }

    [Fact]
    public void Grayscale_MatchesTorchvisionLuma()
    {
        var f = FixtureTensors.Load("imaging.safetensors");
        using var got = Augment.Grayscale(f["image"].unsqueeze(0)).squeeze(0);
        FixtureTensors.AssertClose(f["gray"], got, 1e-6);
    }

    [Fact]
    public void Rotate90_MatchesTorchRot90()
    {
        var f = FixtureTensors.Load("imaging.safetensors");
        using var got = Augment.Rotate90(f["image"].unsqueeze(0), 1).squeeze(0);
        FixtureTensors.AssertClose(f["rot90_k1"], got, 0);
    }

    [Fact]
    public void AllRotations_LabelsAndFourFoldBatch()
    {
        using var x = arange(2 * 1 * 3 * 3, ScalarType.Float32).reshape(2, 1, 3, 3);
        var (imgs, labels) = Augment.AllRotations(x);
        Assert.Equal(new long[] { 8, 1, 3, 3 }, imgs.shape);
        Assert.Equal(new long[] { 0, 0, 1, 1, 2, 2, 3, 3 }, labels.data<long>().ToArray());
        // 4 quarter turns bring an image back; rotation by 2 is a flip of both axes.
        FixtureTensors.AssertClose(x[0].flip(1, 2), imgs[4], 0);
    }

    [Fact]
    public void RandomCrop_ShiftsContentWithinPadding_DeterministicByGenerator()
    {
        using var x = arange(3 * 1 * 6 * 6, ScalarType.Float32).reshape(3, 1, 6, 6).add_(1);
        using var a = Augment.RandomCropWithPadding(x, 2, new Generator(3));
        using var b = Augment.RandomCropWithPadding(x, 2, new Generator(3));
        FixtureTensors.AssertClose(a, b, 0);
        for (int n = 0; n < 3; n++)
        {
            // Every non-zero output pixel is an input pixel of the same image, and each row of the
            // output, where non-zero, is a contiguous run of the input row (a pure translation).
            var inVals = x[n].data<float>().ToHashSet();
            Assert.All(a[n].data<float>().ToArray().Where(v => v != 0), v => Assert.Contains(v, inVals));
            Assert.True(a[n].count_nonzero().item<long>() >= 4 * 4);
        }
    }

    [Fact]
    public void HorizontalFlip_ProbabilityOneAndZero()
    {
        using var x = rand(4, 3, 5, 5, generator: new Generator(1));
        FixtureTensors.AssertClose(x.flip(3), Augment.HorizontalFlip(x, 1.0, new Generator(2)), 0);
        FixtureTensors.AssertClose(x, Augment.HorizontalFlip(x, 0.0, new Generator(2)), 0);
    }

    [Fact]
    public void RandomResizedCrop_FullBoxAtSameSize_IsIdentity()
    {
        // scale = ratio = 1 forces the whole image; resampling it to its own size changes nothing.
        using var x = rand(2, 3, 8, 8, generator: new Generator(4));
        using var y = Augment.RandomResizedCrop(x, 8, new Generator(5), 1.0, 1.0, 1.0, 1.0);
        FixtureTensors.AssertClose(x, y, 1e-5);
    }

    [Fact]
    public void ResizedCrop_MatchesTorchvisionResizedCrop()
    {
        // The box rows 1..4, cols 2..4 (height 4, width 3) resized bilinearly to 8×8, as TF.resized_crop.
        var f = FixtureTensors.Load("imaging.safetensors");
        using var img = f["image"].unsqueeze(0);
        using var got = Augment.ResizedCrop(img, 1, 2, 4, 3, 8);
        FixtureTensors.AssertClose(f["crop_resize"], got.squeeze(0), 1e-6);
    }

    [Fact]
    public void RandomResizedCrop_OutputsRequestedSize_Deterministically()
    {
        using var x = rand(5, 3, 12, 10, generator: new Generator(4));
        using var a = Augment.RandomResizedCrop(x, 8, new Generator(6));
        using var b = Augment.RandomResizedCrop(x, 8, new Generator(6));
        Assert.Equal(new long[] { 5, 3, 8, 8 }, a.shape);
        FixtureTensors.AssertClose(a, b, 0);
        Assert.True(a.ge(x.min()).all().item<bool>() && a.le(x.max()).all().item<bool>());
    }

    [Fact]
    public void ColorJitter_KeepsRangeAndGreyImagesIgnoreHue()
    {
        using var x = rand(6, 3, 4, 4, generator: new Generator(6));
        using var y = Augment.ColorJitter(x, 0.4, 0.4, 0.4, 0.1, 1.0, new Generator(7));
        Assert.True(y.ge(0).all().item<bool>() && y.le(1).all().item<bool>());
        Assert.True((y - x).abs().max().item<float>() > 1e-3);
        using var g = rand(2, 1, 4, 4, generator: new Generator(8));
        using var gy = Augment.ColorJitter(g, 0, 0, 0.5, 0.5, 1.0, new Generator(9));
        FixtureTensors.AssertClose(g, gy, 0);
    }

    [Fact]
    public void Normalize_PerChannel()
    {
        using var x = ones(1, 2, 1, 1);
        using var y = Augment.Normalize(x, [0.5, 0.25], [0.5, 0.25]);
        Assert.Equal(new float[] { 1f, 3f }, y.data<float>().ToArray());
    }
}
