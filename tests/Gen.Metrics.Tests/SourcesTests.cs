// Metric inputs: folders read as pytorch-fid reads them, datasets, .npz, generator checkpoints through the
// IImageSampler seam, and one-line errors for bad inputs.
using Gen.Metrics.Sources;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;
using static TorchSharp.torch;

namespace Gen.Metrics.Tests;

public sealed class SourcesTests
{
    private static void WritePng(string path, int size, byte value, int channels = 1)
    {
        var px = Enumerable.Repeat(value, channels * size * size).ToArray();
        ImageCodec.WritePng(path, px, channels, size, size);
    }

    [Fact]
    public void Folder_IsSortedNonRecursive_AndMixedSizesAreNoted()
    {
        using var tmp = new TempDir();
        WritePng(tmp.File("b.png"), 8, 20);
        WritePng(tmp.File("a.png"), 8, 10);
        WritePng(tmp.File("c.png"), 12, 30, channels: 3);
        Directory.CreateDirectory(tmp.File("sub"));
        WritePng(Path.Combine(tmp.File("sub"), "z.png"), 8, 99);
        File.WriteAllText(tmp.File("notes.txt"), "ignored");
        using var input = MetricInput.Resolve(tmp.Path, null, 0);
        Assert.Equal(InputKind.Folder, input.Kind);
        var batches = input.Images!.Batches(10).ToList();
        Assert.Equal(3, input.Images.Count);
        Assert.Equal(2, batches.Count);                       // the size change starts a new batch
        Assert.Equal([10, 20], batches[0].Pixels.Where((_, i) => i % 64 == 0));
        Assert.Equal((3, 12), (batches[1].Channels, batches[1].Height));
        Assert.Contains(input.Images.Notes, n => n.StartsWith("mixed sizes", StringComparison.Ordinal));
    }

    [Fact]
    public void BadFolders_AreOneLineErrors()
    {
        using var tmp = new TempDir();
        Assert.Throws<GenInputException>(() => MetricInput.Resolve(tmp.Path, null, 0));
        Directory.CreateDirectory(tmp.File("nested"));
        WritePng(Path.Combine(tmp.File("nested"), "x.png"), 8, 1);
        var e = Assert.Throws<GenInputException>(() => new FolderSource(tmp.Path));
        Assert.Contains("subfolders", e.Message);
        File.WriteAllText(tmp.File("scan.tif"), "x");
        Assert.Contains("convert them to PNG", Assert.Throws<GenInputException>(() => new FolderSource(tmp.Path)).Message);
        Assert.Contains("not found", Assert.Throws<GenInputException>(() => MetricInput.Resolve(tmp.File("missing"), null, 0)).Message);
    }

    private sealed class FakeSampler : IImageSampler
    {
        public int Channels => 1;
        public int Height => 4;
        public int Width => 4;
        public string Description => "fake";
        public List<(int, long)> Calls { get; } = [];

        public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null)
        {
            Calls.Add((count, firstSeed));
            var px = new byte[count * 16];
            for (int i = 0; i < count; i++) Array.Fill(px, (byte)(firstSeed + i), i * 16, 16);
            return px;
        }

        public void Dispose() { }
    }

    [Fact]
    public void GeneratorCheckpoint_IsSampledInSeededChunks_AndOtherKindsAreRefused()
    {
        using var tmp = new TempDir();
        var fake = new FakeSampler();
        ImageGenerators.Register("fake-generator", _ => fake);
        string ckpt = tmp.File("g.safetensors");
        using (var w = zeros(2)) Checkpoint.Save(ckpt, [new("w", w)], "fake-generator", "{}", 7);
        Assert.Contains("--n", Assert.Throws<GenInputException>(() => MetricInput.Resolve(ckpt, null, 0)).Message);
        using (var input = MetricInput.Resolve(ckpt, 5, 100))
        {
            Assert.Equal(InputKind.Checkpoint, input.Kind);
            var firstPixels = input.Images!.Batches(2).Select(b => b.Pixels[0]).ToArray();
            Assert.Equal([100, 102, 104], firstPixels);
            Assert.Equal([(2, 100L), (2, 102L), (1, 104L)], fake.Calls);
        }
        string classifier = tmp.File("c.safetensors");
        using (var w = zeros(2)) Checkpoint.Save(classifier, [new("w", w)], "classifier", "{}", 1);
        var e = Assert.Throws<GenInputException>(() => MetricInput.Resolve(classifier, 10, 0));
        Assert.Contains("not an image generator", e.Message);
    }

    [Fact]
    public void FolderLimit_TakesTheFirstImages()
    {
        using var tmp = new TempDir();
        for (int i = 0; i < 5; i++) WritePng(tmp.File($"{i}.png"), 4, (byte)i);
        using var input = MetricInput.Resolve(tmp.Path, 3, 0);
        Assert.Equal(3, input.Images!.Count);
        Assert.Equal(3, input.Images.Batches(2).Sum(b => b.Count));
    }
}
