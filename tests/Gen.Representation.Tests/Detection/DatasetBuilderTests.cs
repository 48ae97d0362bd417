using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;
using Gen.Representation.Detection;

namespace Gen.Representation.Tests.Detection;

/// <summary>Images that depend on their seed alone (a hash of seed and pixel index), as the sampler contract asks.</summary>
internal sealed class SeedSampler(int channels, int height, int width) : IImageSampler
{
    public int Channels => channels;
    public int Height => height;
    public int Width => width;
    public string Description => "seed sampler";

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null)
    {
        int per = channels * height * width;
        var px = new byte[count * per];
        for (int n = 0; n < count; n++)
            for (int i = 0; i < per; i++)
            {
                ulong z = (ulong)(firstSeed + n) * 0x9E3779B97F4A7C15UL + (ulong)i * 0xBF58476D1CE4E5B9UL;
                z ^= z >> 31; z *= 0x94D049BB133111EBUL; z ^= z >> 29;
                px[n * per + i] = (byte)z;
            }
        return px;
    }

    public void Dispose() { }
}

/// <summary>A class-conditional seed sampler: the image of seed s is SeedSampler's, of class s mod classes.</summary>
internal sealed class ClassSeedSampler(int channels, int height, int width, IReadOnlyList<string> classes) : IClassConditionalSampler
{
    private readonly SeedSampler _inner = new(channels, height, width);
    public int Channels => channels;
    public int Height => height;
    public int Width => width;
    public string Description => "class seed sampler";
    public IReadOnlyList<string> ClassNames => classes;
    public int ClassOfSeed(long seed) => IClassConditionalSampler.SeedClass(seed, classes.Count);
    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null) => _inner.SampleUint8(count, firstSeed);
    public void Dispose() { }
}

public sealed class DatasetBuilderTests
{
    private static string Sha(ReadOnlySpan<byte> px) => Convert.ToHexStringLower(SHA256.HashData(px));

    private static HashSet<string> Hashes(string folder) =>
        Directory.EnumerateFiles(folder).Select(f => Sha(ImageCodec.Decode(f).Pixels)).ToHashSet();

    /// <summary>The tiny test split plus copies of 64 training images: the builder must not put those in its test split.</summary>
    private static ImageSet TestWithLeaks(ImageSet train, ImageSet test)
    {
        int per = train.ImageBytes;
        var px = new byte[(test.Count + 64) * per];
        test.Pixels.CopyTo(px, 0);
        for (int i = 0; i < 64; i++) train.Image(i * 3).CopyTo(px.AsSpan((test.Count + i) * per, per));
        int[] labels = [.. test.Labels, .. Enumerable.Range(0, 64).Select(i => train.Labels[i * 3])];
        return new ImageSet("leaky:test", px, labels, train.Channels, train.Height, train.Width, train.ClassNames, "memory");
    }

    [Fact]
    public void Build_CountsNoLeakageDeterminismAndSeedReproduction()
    {
        using var tmp = new TempDir();
        ImageSet train = TinyData.Train, test = TestWithLeaks(train, TinyData.Test);
        using var sampler = new SeedSampler(1, train.Height, train.Width);
        var p = new BuildDatasetParams { Fake = "seed", N = train.Count, NTest = TinyData.Test.Count, Out = tmp.File("a"), Seed = 1 };
        JsonObject summary = DatasetBuilder.Build(p, train, test, FakeSource.Generator(sampler, new JsonObject { ["model"] = "seed sampler" }));
        DatasetBuilder.Build(p with { Out = tmp.File("b") }, train, test, FakeSource.Generator(sampler, new JsonObject { ["model"] = "seed sampler" }));

        foreach (var (split, n) in new[] { ("train", train.Count), ("test", TinyData.Test.Count) })
            foreach (string label in new[] { "REAL", "FAKE" })
                Assert.Equal(n, Directory.GetFiles(tmp.File($"a/{split}/{label}"), "*.png").Length);
        var trainHashes = Hashes(tmp.File("a/train/REAL")).Union(Hashes(tmp.File("a/train/FAKE"))).ToHashSet();
        var testHashes = Hashes(tmp.File("a/test/REAL")).Union(Hashes(tmp.File("a/test/FAKE"))).ToHashSet();
        Assert.Empty(trainHashes.Intersect(testHashes));
        Assert.True(summary["real"]!["test_skipped_as_in_train"]!.GetValue<int>() > 0);

        // Same inputs → byte-identical files and manifest.
        Assert.Equal(File.ReadAllBytes(tmp.File("a/manifest.json")), File.ReadAllBytes(tmp.File("b/manifest.json")));
        foreach (string f in Directory.EnumerateFiles(tmp.File("a"), "*.png", SearchOption.AllDirectories))
            Assert.Equal(File.ReadAllBytes(f), File.ReadAllBytes(Path.Combine(tmp.File("b"), Path.GetRelativePath(tmp.File("a"), f))));

        // Both classes share one format, and a recorded seed reproduces its file.
        var real = ImageCodec.Decode(tmp.File("a/test/REAL/000000.png"));
        var fake = ImageCodec.Decode(tmp.File("a/test/FAKE/000003.png"));
        Assert.Equal((real.Channels, real.Height, real.Width), (fake.Channels, fake.Height, fake.Width));
        var manifest = JsonNode.Parse(File.ReadAllText(tmp.File("a/manifest.json")))!;
        var entry = manifest["files"]!.AsArray().First(e => e!["path"]!.GetValue<string>() == "test/FAKE/000003.png")!;
        Assert.Equal($"seed {FakeSource.TestSeedBase + 3}", entry["fake"]!.GetValue<string>());
        Assert.Equal(sampler.SampleUint8(1, FakeSource.TestSeedBase + 3), fake.Pixels);
        Assert.Equal(Sha(fake.Pixels), entry["sha256"]!.GetValue<string>());
        Assert.NotNull(manifest["cues"]!["train"]!["FAKE"]!["zero_fraction"]);
    }

    [Fact]
    public void ConditionalGenerator_FakesFollowTheRealClassHistogram()
    {
        using var tmp = new TempDir();
        ImageSet train = TinyData.Train, test = TinyData.Test;
        using var sampler = new ClassSeedSampler(1, train.Height, train.Width, train.ClassNames);
        var p = new BuildDatasetParams { Fake = "cond", N = train.Count / 2, NTest = test.Count / 2, Out = tmp.File("ds"), Seed = 3 };
        JsonObject summary = DatasetBuilder.Build(p, train, test, FakeSource.Generator(sampler, new JsonObject()));
        Assert.StartsWith("matched", summary["fake_classes"]!.GetValue<string>());

        var files = JsonNode.Parse(File.ReadAllText(tmp.File("ds/manifest.json")))!["files"]!.AsArray().Select(e => e!).ToList();
        var seen = new HashSet<long>();
        foreach (string split in new[] { "train", "test" })
        {
            var real = files.Where(e => e["path"]!.GetValue<string>().StartsWith($"{split}/REAL/")).OrderBy(e => e["path"]!.GetValue<string>()).ToList();
            var fake = files.Where(e => e["path"]!.GetValue<string>().StartsWith($"{split}/FAKE/")).OrderBy(e => e["path"]!.GetValue<string>()).ToList();
            Assert.Equal(real.Count, fake.Count);
            for (int i = 0; i < fake.Count; i++)
            {
                long seed = long.Parse(fake[i]["fake"]!.GetValue<string>()["seed ".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(seen.Add(seed), $"seed {seed} used twice");
                Assert.Equal(split == "test", seed >= FakeSource.TestSeedBase);
                // Pair i: the fake's seed gives the class of real image i, and the file holds that seed's image.
                string cls = real[i]["class"]!.GetValue<string>();
                Assert.Equal(cls, train.ClassNames[(int)(seed % train.ClassCount)]);
                Assert.Equal(cls, fake[i]["class"]!.GetValue<string>());
                Assert.Equal(sampler.SampleUint8(1, seed), ImageCodec.Decode(tmp.File("ds/" + fake[i]["path"]!.GetValue<string>())).Pixels);
            }
        }
        // The random half of the real split is not class-balanced, so plain consecutive seeds would not have matched it.
        var trainClasses = files.Where(e => e["path"]!.GetValue<string>().StartsWith("train/REAL/")).GroupBy(e => e["class"]!.GetValue<string>()).Select(g => g.Count()).ToList();
        Assert.True(trainClasses.Max() - trainClasses.Min() > 1);

        // A generator whose class names differ is sampled by consecutive seeds, and the manifest says why.
        using var other = new ClassSeedSampler(1, train.Height, train.Width, train.ClassNames.Select(n => "x" + n).ToList());
        JsonObject unmatched = DatasetBuilder.Build(p with { Out = tmp.File("ds2") }, train, test, FakeSource.Generator(other, new JsonObject()));
        Assert.Contains("no class named", unmatched["fake_classes"]!.GetValue<string>());
        Assert.Equal(other.SampleUint8(1, FakeSource.TestSeedBase + 2), ImageCodec.Decode(tmp.File("ds2/test/FAKE/000002.png")).Pixels);
    }

    [Fact]
    public void BadInputs_OneLineErrors_NothingLeftBehind()
    {
        using var tmp = new TempDir();
        ImageSet train = TinyData.Train, test = TinyData.Test;
        using var sampler = new SeedSampler(1, train.Height, train.Width);
        using var colour = new SeedSampler(3, train.Height, train.Width);
        var p = new BuildDatasetParams { Fake = "seed", N = 10, NTest = 5, Out = tmp.File("ds") };
        FakeSource Gen() => FakeSource.Generator(sampler, new JsonObject());

        Assert.Contains("lower --n", Assert.Throws<GenInputException>(() => DatasetBuilder.Build(p with { N = train.Count + 1 }, train, test, Gen())).Message);
        Assert.Contains("lower --n-test", Assert.Throws<GenInputException>(() => DatasetBuilder.Build(p with { NTest = test.Count + 1 }, train, test, Gen())).Message);
        Assert.Contains("1x12x12", Assert.Throws<GenInputException>(() => DatasetBuilder.Build(p, train, test, FakeSource.Generator(colour, new JsonObject()))).Message);

        Directory.CreateDirectory(tmp.File("few"));
        for (int i = 0; i < 14; i++) ImageCodec.WritePng(tmp.File($"few/{i:D2}.png"), sampler.SampleUint8(1, i), 1, 12, 12);
        Assert.Contains("15 are needed", Assert.Throws<GenInputException>(() => DatasetBuilder.Build(p, train, test, FakeSource.Folder(tmp.File("few")))).Message);
        Assert.False(Directory.Exists(tmp.File("ds")));
        Assert.DoesNotContain(Directory.GetDirectories(tmp.Path), d => Path.GetFileName(d).StartsWith("ds"));

        // A folder source with enough images works, takes files in order, and an existing --out is refused.
        ImageCodec.WritePng(tmp.File("few/14.png"), sampler.SampleUint8(1, 14), 1, 12, 12);
        DatasetBuilder.Build(p, train, test, FakeSource.Folder(tmp.File("few")));
        Assert.Equal(sampler.SampleUint8(1, 10), ImageCodec.Decode(tmp.File("ds/test/FAKE/000000.png")).Pixels);
        Assert.Contains("already exists", Assert.Throws<GenInputException>(() => DatasetBuilder.Build(p, train, test, Gen())).Message);
    }
}
