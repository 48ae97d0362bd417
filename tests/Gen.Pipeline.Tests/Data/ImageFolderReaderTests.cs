using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;

namespace Gen.Pipeline.Tests.Data;

public sealed class ImageFolderReaderTests
{
    private static void Png(string path, byte value, int size = 8, int channels = 3)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var px = Enumerable.Range(0, channels * size * size).Select(i => (byte)(value + i % 3)).ToArray();
        File.WriteAllBytes(path, ImageCodec.EncodePng(px, channels, size, size));
    }

    [Fact]
    public void ClassSubfolders_SortedClassesAndLabels()
    {
        using var tmp = new TempDir();
        Png(tmp.File("dog/a.png"), 10);
        Png(tmp.File("cat/b.png"), 20);
        Png(tmp.File("cat/c.png"), 30);
        var set = DatasetCatalog.Load(tmp.Path, Split.Train);
        Assert.Equal(["cat", "dog"], set.ClassNames);
        Assert.Equal([0, 0, 1], set.Labels);
        Assert.Equal(20, set.Image(0)[0]);
    }

    [Fact]
    public void CifakeLayout_SplitsAndRealFakeClasses()
    {
        using var tmp = new TempDir();
        Png(tmp.File("train/REAL/1.png"), 1);
        Png(tmp.File("train/FAKE/1.png"), 2);
        Png(tmp.File("train/FAKE/2.png"), 3);
        Png(tmp.File("test/REAL/1.png"), 4);
        var train = DatasetCatalog.Load(tmp.Path, Split.Train);
        var test = DatasetCatalog.Load(tmp.Path, Split.Test);
        Assert.Equal(["FAKE", "REAL"], train.ClassNames);
        Assert.Equal(3, train.Count);
        Assert.Equal(1, test.Count);
    }

    [Fact]
    public void CorruptPng_ErrorNamesTheFile()
    {
        using var tmp = new TempDir();
        Png(tmp.File("a/good.png"), 5);
        byte[] good = File.ReadAllBytes(tmp.File("a/good.png"));
        File.WriteAllBytes(tmp.File("a/broken.png"), good[..(good.Length / 2)]);
        var e = Assert.Throws<GenInputException>(() => DatasetCatalog.Load(tmp.Path, Split.Train));
        Assert.Contains("broken.png", e.Message);
    }

    [Fact]
    public void MixedSizes_ErrorNamesBothFiles()
    {
        using var tmp = new TempDir();
        Png(tmp.File("a/small.png"), 5, size: 8);
        Png(tmp.File("a/large.png"), 5, size: 10);
        var e = Assert.Throws<GenInputException>(() => DatasetCatalog.Load(tmp.Path, Split.Train));
        Assert.Contains("mixed sizes", e.Message);
        Assert.Contains("small.png", e.Message);
        Assert.Contains("large.png", e.Message);
    }

    [Fact]
    public void EmptyFolder_Refused()
    {
        using var tmp = new TempDir();
        var e = Assert.Throws<GenInputException>(() => DatasetCatalog.Load(tmp.Path, Split.Train));
        Assert.Contains("no PNG or JPEG", e.Message);
    }

    [Fact]
    public void GreyAndColourFiles_BecomeColour()
    {
        using var tmp = new TempDir();
        Png(tmp.File("a/grey.png"), 50, channels: 1);
        Png(tmp.File("a/rgb.png"), 60, channels: 3);
        var set = DatasetCatalog.Load(tmp.Path, Split.Train);
        Assert.Equal(3, set.Channels);
        var grey = set.Image(0).ToArray();
        Assert.Equal(grey[..64], grey[64..128]); // replicated planes
    }
}
