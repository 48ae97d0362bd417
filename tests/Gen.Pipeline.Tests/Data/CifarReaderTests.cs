using Gen.Pipeline.Data;

namespace Gen.Pipeline.Tests.Data;

public sealed class CifarReaderTests
{
    private static byte[] Records(int n, bool cifar100)
    {
        int rec = cifar100 ? 3074 : 3073;
        var b = new byte[n * rec];
        for (int i = 0; i < n; i++)
        {
            if (cifar100) { b[i * rec] = (byte)(i % 20); b[i * rec + 1] = (byte)(i * 7 % 100); }
            else b[i * rec] = (byte)(i % 10);
            for (int p = 0; p < 3072; p++) b[i * rec + rec - 3072 + p] = (byte)((p + i) % 251);
        }
        return b;
    }

    [Fact]
    public void Cifar10Batch_LabelsAndPlanarPixels()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("data_batch_1.bin"), Records(3, false));
        var (px, lab) = CifarReader.Read([tmp.File("data_batch_1.bin")], CifarKind.Cifar10);
        Assert.Equal([0, 1, 2], lab);
        Assert.Equal(3 * 3072, px.Length);
        Assert.Equal((byte)((1024 + 1) % 251), px[3072 + 1024]); // image 1, green plane, first pixel
    }

    [Fact]
    public void Cifar100Batch_UsesFineLabel()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("train.bin"), Records(4, true));
        var (_, lab) = CifarReader.Read([tmp.File("train.bin")], CifarKind.Cifar100);
        Assert.Equal([0, 7, 14, 21], lab);
    }

    [Fact]
    public void SizeNotMultipleOfRecord_Refused()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("test_batch.bin"), Records(2, false)[..^5]);
        var e = Assert.Throws<GenInputException>(() => CifarReader.Read([tmp.File("test_batch.bin")], CifarKind.Cifar10));
        Assert.Contains("not a multiple of the 3073-byte", e.Message);
        Assert.Contains("test_batch.bin", e.Message);
    }

    [Fact]
    public void Folder_Cifar10Layout_LoadsBothSplits()
    {
        using var tmp = new TempDir();
        string dir = Path.Combine(tmp.Path, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        for (int i = 1; i <= 5; i++) File.WriteAllBytes(Path.Combine(dir, $"data_batch_{i}.bin"), Records(2, false));
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), Records(3, false));
        var train = DatasetCatalog.Load(tmp.Path, Split.Train);
        var test = DatasetCatalog.Load(tmp.Path + ":test", Split.Train);
        Assert.Equal(10, train.Count);
        Assert.Equal(3, test.Count);
        Assert.Equal("airplane", train.ClassNames[0]);
        Assert.Equal((3, 32, 32), (test.Channels, test.Height, test.Width));
    }

    [Fact]
    public void SingleBatchFile_KindGuessedFromSize()
    {
        using var tmp = new TempDir();
        File.WriteAllBytes(tmp.File("some.bin"), Records(4, true));
        var set = DatasetCatalog.Load(tmp.File("some.bin"), Split.Train);
        Assert.Equal(4, set.Count);
        Assert.Equal(100, set.ClassCount);
        Assert.Equal(7, set.Labels[1]);
    }
}
