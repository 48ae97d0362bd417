using Gen.Pipeline.Data;

namespace Gen.Pipeline.Tests.Data;

public sealed class IdxReaderTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ReadPair_RawAndGzip_GiveSamePixelsAndLabels(bool gz)
    {
        using var tmp = new TempDir();
        var (px, lab) = Synthetic.Images(10, 3, 6, 1, 7);
        string img = tmp.File("x-images-idx3-ubyte"), labels = tmp.File("x-labels-idx1-ubyte");
        File.WriteAllBytes(img, gz ? Synthetic.Gzip(Synthetic.IdxImages(px, 10, 6, 6)) : Synthetic.IdxImages(px, 10, 6, 6));
        File.WriteAllBytes(labels, gz ? Synthetic.Gzip(Synthetic.IdxLabels(lab)) : Synthetic.IdxLabels(lab));
        var (pixels, l, c, h, w) = IdxReader.ReadPair(img, labels);
        Assert.Equal((1, 6, 6), (c, h, w));
        Assert.Equal(px, pixels);
        Assert.Equal(lab.Select(b => (int)b), l);
    }

    [Fact]
    public void Read_Truncated_NamesFileAndByteCounts()
    {
        using var tmp = new TempDir();
        var full = Synthetic.IdxImages(new byte[4 * 5 * 5], 4, 5, 5);
        File.WriteAllBytes(tmp.File("t.idx"), full[..^7]);
        var e = Assert.Throws<GenInputException>(() => IdxReader.Read(tmp.File("t.idx")));
        Assert.Contains("t.idx", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("100", e.Message); // promised bytes
    }

    [Fact]
    public void Read_WrongMagic_Refused()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("bad.idx"), [0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
        var e = Assert.Throws<GenInputException>(() => IdxReader.Read(tmp.File("bad.idx")));
        Assert.Contains("not an IDX file", e.Message);
        Assert.Contains("bad.idx", e.Message);
    }

    [Fact]
    public void Read_TruncatedGzip_Refused()
    {
        using var tmp = new TempDir();
        byte[] gz = Synthetic.Gzip(Synthetic.IdxImages(new byte[50 * 8 * 8], 50, 8, 8));
        File.WriteAllBytes(tmp.File("cut.gz"), gz[..(gz.Length / 2)]);
        var e = Assert.Throws<GenInputException>(() => IdxReader.Read(tmp.File("cut.gz")));
        Assert.Contains("cut.gz", e.Message);
    }

    [Fact]
    public void ReadPair_LabelCountMismatch_NamesBothFiles()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("i"), Synthetic.IdxImages(new byte[3 * 4 * 4], 3, 4, 4));
        File.WriteAllBytes(tmp.File("l"), Synthetic.IdxLabels([0, 1]));
        var e = Assert.Throws<GenInputException>(() => IdxReader.ReadPair(tmp.File("i"), tmp.File("l")));
        Assert.Contains("2 labels", e.Message);
        Assert.Contains("3 images", e.Message);
    }

    [Fact]
    public void DebianFashionMnist_WhenInstalled_HasKnownShape()
    {
        // CI installs dataset-fashion-mnist (.ci/run); elsewhere this checks nothing if it is absent.
        string dir = "/usr/share/datasets/fashion-mnist";
        if (!Directory.Exists(dir)) return;
        var set = DatasetCatalog.LoadFolder(dir, Split.Test, "fashion-mnist:test", DatasetCatalog.Known["fashion-mnist"]);
        Assert.Equal(10000, set.Count);
        Assert.Equal((1, 28, 28), (set.Channels, set.Height, set.Width));
        Assert.All(set.ClassHistogram(), n => Assert.Equal(1000, n));
    }
}
