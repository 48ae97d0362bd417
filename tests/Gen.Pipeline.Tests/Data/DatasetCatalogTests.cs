using Gen.Pipeline.Data;

namespace Gen.Pipeline.Tests.Data;

public sealed class DatasetCatalogTests
{
    [Fact]
    public void Parse_ShortNameWithSplit()
    {
        var r = DatasetRef.Parse("fashion-mnist:test");
        Assert.Equal("fashion-mnist", r.ShortName);
        Assert.Equal(Split.Test, r.Split);
        Assert.Null(DatasetRef.Parse("/some/folder").ShortName);
    }

    [Fact]
    public void MissingPath_Refused()
    {
        var e = Assert.Throws<GenInputException>(() => DatasetCatalog.Load("/no/such/place", Split.Train));
        Assert.Contains("/no/such/place", e.Message);
    }

    [Fact]
    public void IdxFolder_LoadsTrainAndTestSplits()
    {
        using var tmp = new TempDir();
        Synthetic.IdxDataset(tmp.Path, train: 40, test: 16);
        Assert.Equal(40, DatasetCatalog.Load(tmp.Path, Split.Train).Count);
        Assert.Equal(16, DatasetCatalog.Load(tmp.Path + ":test", Split.Train).Count);
    }

    [Fact]
    public void SingleIdxFile_PairsWithItsLabelFile()
    {
        using var tmp = new TempDir();
        Synthetic.IdxDataset(tmp.Path, train: 20, test: 8);
        var set = DatasetCatalog.Load(tmp.File("t10k-images-idx3-ubyte.gz"), Split.Train);
        Assert.Equal(8, set.Count);
        Assert.DoesNotContain(-1, set.Labels);
    }

    [Fact]
    public void ShortName_ResolvedThroughGenData()
    {
        using var tmp = new TempDir();
        Synthetic.IdxDataset(Path.Combine(tmp.Path, "mnist"), train: 12, test: 4);
        string? old = Environment.GetEnvironmentVariable("GEN_DATA");
        Environment.SetEnvironmentVariable("GEN_DATA", tmp.Path);
        try
        {
            var set = DatasetCatalog.Load("mnist", Split.Test);
            Assert.Equal(4, set.Count);
            Assert.Equal("mnist:test", set.Name);
        }
        finally { Environment.SetEnvironmentVariable("GEN_DATA", old); }
    }

    [Fact]
    public void MissingKnownDataset_OfflineErrorNamesTheFix()
    {
        using var tmp = new TempDir();
        string? home = Environment.GetEnvironmentVariable("GEN_HOME");
        Environment.SetEnvironmentVariable("GEN_HOME", tmp.Path);
        try
        {
            var e = Assert.Throws<GenInputException>(() => DatasetCatalog.Load("cifar100", Split.Train));
            Assert.Contains("CIFAR-100 not found", e.Message);
            Assert.Contains(Path.Combine(tmp.Path, "datasets", "cifar100"), e.Message);
        }
        finally { Environment.SetEnvironmentVariable("GEN_HOME", home); }
    }

    [Fact]
    public void DownloadChecksums_VerifyKnownContent()
    {
        // The Fashion-MNIST checksums are over the decompressed IDX bytes, so Debian's recompressed
        // files verify too; a wrong file must not.
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("x.gz"), Synthetic.Gzip([1, 2, 3]));
        var spec = DatasetCatalog.Known["fashion-mnist"].Files[0];
        Assert.False(Downloader.Verify(tmp.File("x.gz"), spec));
        string debian = "/usr/share/datasets/fashion-mnist/" + spec.Name;
        if (File.Exists(debian)) Assert.True(Downloader.Verify(debian, spec));
    }
}
