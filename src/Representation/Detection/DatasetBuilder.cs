// `gen detect build-dataset` (docs/methods/detection.md §2): a CIFAKE-layout set from real images and a
// Gen generator (or a folder of generated images), built so a detector can only learn the generator:
//  * one pixel path for both classes: uint8 planar images written as lossless PNG, same size and channels;
//  * no leakage: train REAL from the real training split, test REAL from the test split, FAKE train
//    seeds 0…n−1 and test seeds from 10⁹, and no image (by SHA-256 of its pixels) in both splits;
//  * balance: n REAL + n FAKE for training, n-test + n-test for testing; with a class-conditional
//    generator and a labelled real set, fake i of a split is sampled from a seed of the class of real
//    image i, so both classes of a split have the same class histogram;
//  * the cheap cues (mean, std, fraction of exact 0 and 255 pixels per split and class) in the manifest;
//  * deterministic: the same inputs give byte-identical files and manifest.
// The set is written into a temporary sibling folder and renamed into place when complete.
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;
using Gen.Pipeline.Methods;

namespace Gen.Representation.Detection;

public sealed record BuildDatasetParams
{
    public string Real { get; init; } = "fashion-mnist:train";
    public string? RealTest { get; init; }
    public required string Fake { get; init; }
    public int N { get; init; } = 10000;
    public int NTest { get; init; } = 2000;
    public required string Out { get; init; }
    public long Seed { get; init; }

    public void Validate()
    {
        if (N < 1) throw new GenInputException($"--n must be at least 1, got {N}");
        if (NTest < 1) throw new GenInputException($"--n-test must be at least 1, got {NTest}");
        if (Seed < 0) throw new GenInputException($"--seed must be zero or positive, got {Seed}");
        if (Directory.Exists(Out) || File.Exists(Out))
            throw new GenInputException($"--out '{Out}' already exists; choose a new folder or delete it (the builder never writes into an existing one)");
    }
}

/// <summary>Where fake images come from: a generator (images by seed) or a folder of image files.</summary>
public sealed class FakeSource
{
    public const long TestSeedBase = 1_000_000_000;

    private readonly IImageSampler? _sampler;
    private readonly string[] _files = [];

    private FakeSource(IImageSampler? sampler, string[] files, JsonObject describe)
    {
        _sampler = sampler;
        _files = files;
        Describe = describe;
    }

    public JsonObject Describe { get; }
    public bool IsGenerator => _sampler is not null;

    /// <summary>The generator's class names when it samples by class (empty for an unconditional generator or a folder).</summary>
    public IReadOnlyList<string> Classes => _sampler is IClassConditionalSampler c ? c.ClassNames : [];

    /// <summary>The generator's shape, known before sampling (null for a folder).</summary>
    public (int C, int H, int W)? Shape => _sampler is null ? null : (_sampler.Channels, _sampler.Height, _sampler.Width);

    public static FakeSource Generator(IImageSampler sampler, JsonObject describe) => new(sampler, [], describe);

    public static FakeSource Folder(string folder)
    {
        string[] files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(ImageCodec.IsImageFile)
                                  .OrderBy(f => Path.GetRelativePath(folder, f), StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new GenInputException($"--fake folder '{folder}' holds no PNG or JPEG images; pass a folder of generated images or a generator checkpoint");
        return new(null, files, new JsonObject { ["folder"] = Path.GetFullPath(folder), ["files"] = files.Length });
    }

    public int? Available => _sampler is null ? _files.Length : null;

    /// <summary>
    /// Train images (seeds 0…n−1, or the first n files) and test images (seeds 10⁹…, or the next files), with
    /// their ids. With <paramref name="classes"/> (a class-conditional generator), image i is drawn from the
    /// first unused seed at or after the split's base whose class is classes[i].
    /// </summary>
    public (byte[] Pixels, int C, int H, int W, string[] Ids) Take(bool test, int count, int offsetFiles, IProgress<string>? log, int[]? classes = null)
    {
        if (_sampler is not null)
        {
            long first = test ? TestSeedBase : 0;
            long[] seeds = classes is null ? Enumerable.Range(0, count).Select(i => first + i).ToArray() : SeedsOfClasses(classes, first);
            log?.Report($"sampling {count} {(test ? "test" : "train")} fakes (seeds {first}…{seeds.Max()}{(classes is null ? "" : ", by the REAL class histogram")}) from {_sampler.Description}");
            byte[] px = _sampler.Sample(seeds);
            return (px, _sampler.Channels, _sampler.Height, _sampler.Width, seeds.Select(sd => $"seed {sd}").ToArray());
        }
        var chosen = _files.Skip(offsetFiles).Take(count).ToArray();
        var decoded = new DecodedImage[chosen.Length];
        try { Parallel.For(0, chosen.Length, i => decoded[i] = ImageCodec.Decode(chosen[i])); }
        catch (AggregateException e) when (e.InnerExceptions.OfType<GenInputException>().FirstOrDefault() is { } bad) { throw bad; }
        var (c, h, w) = (decoded[0].Channels, decoded[0].Height, decoded[0].Width);
        for (int i = 0; i < decoded.Length; i++)
            if ((decoded[i].Channels, decoded[i].Height, decoded[i].Width) != (c, h, w))
                throw new GenInputException($"fake images differ in shape: '{chosen[0]}' is {c}x{h}x{w}, '{chosen[i]}' is {decoded[i].Channels}x{decoded[i].Height}x{decoded[i].Width}; give one size and channel count");
        return (decoded.SelectMany(d => d.Pixels).ToArray(), c, h, w, chosen);
    }

    /// <summary>For each wanted class, the next seed (from <paramref name="first"/> on) that the generator samples as that class.</summary>
    private long[] SeedsOfClasses(int[] classes, long first)
    {
        var cond = (IClassConditionalSampler)_sampler!;
        var next = new Dictionary<int, long>();
        var seeds = new long[classes.Length];
        long limit = first + 1000L * (classes.Length + cond.ClassNames.Count);
        for (int i = 0; i < classes.Length; i++)
        {
            long s = next.GetValueOrDefault(classes[i], first);
            while (cond.ClassOfSeed(s) != classes[i])
                if (++s > limit)
                    throw new GenInputException($"the generator gave no image of class '{cond.ClassNames[classes[i]]}' in seeds {first}…{limit}; sample its class with --class, or pass a folder of its images");
            seeds[i] = s;
            next[classes[i]] = s + 1;
        }
        return seeds;
    }
}

public static class DatasetBuilder
{
    public const string ManifestFile = "manifest.json";
    public const string Format = "gen-detect-dataset/1";

    public static JsonObject Build(BuildDatasetParams p, ImageSet realTrain, ImageSet realTest, FakeSource fake, IProgress<string>? log = null, CancellationToken cancel = default)
    {
        p.Validate();
        string outDir = Path.GetFullPath(p.Out);
        if (p.N > realTrain.Count)
            throw new GenInputException($"--n {p.N} is more than the {realTrain.Count} images of '{realTrain.Name}'; lower --n");
        if (p.NTest > realTest.Count)
            throw new GenInputException($"--n-test {p.NTest} is more than the {realTest.Count} images of '{realTest.Name}'; lower --n-test");
        if (fake.Available is int have && have < p.N + p.NTest)
            throw new GenInputException($"the --fake folder holds {have} images but --n {p.N} + --n-test {p.NTest} = {p.N + p.NTest} are needed; add images or lower the counts");
        if ((realTest.Channels, realTest.Height, realTest.Width) != (realTrain.Channels, realTrain.Height, realTrain.Width))
            throw new GenInputException($"'{realTrain.Name}' and '{realTest.Name}' have different image shapes; pass two splits of one dataset");

        if (fake.Shape is var (sc, sh, sw)) CheckShape(sc, sh, sw, realTrain);
        int[]? classMap = ClassMap(fake, realTrain, realTest, out string classing);
        log?.Report($"fake classes: {classing}");
        int[]? FakeClasses(ImageSet set, IEnumerable<int> idx) => classMap is null ? null : idx.Select(i => classMap[set.Labels[i]]).ToArray();

        int per = realTrain.ImageBytes;
        var rng = new Random((int)(p.Seed & 0x7fffffff));
        int[] trainIdx = DetectionData.Permutation(realTrain.Count, rng)[..p.N];
        var fakeTrain = fake.Take(false, p.N, 0, log, FakeClasses(realTrain, trainIdx));
        CheckShape(fakeTrain.C, fakeTrain.H, fakeTrain.W, realTrain);
        cancel.ThrowIfCancellationRequested();
        var trainHashes = new HashSet<string>(StringComparer.Ordinal);
        foreach (int i in trainIdx) trainHashes.Add(Hash(realTrain.Image(i)));
        for (int i = 0; i < p.N; i++) trainHashes.Add(Hash(fakeTrain.Pixels.AsSpan(i * per, per)));

        // Test REAL: a seeded draw from the test split that skips any image also in the training split.
        var testIdx = new List<int>();
        int skippedReal = 0;
        foreach (int i in DetectionData.Permutation(realTest.Count, rng))
        {
            if (testIdx.Count == p.NTest) break;
            if (trainHashes.Contains(Hash(realTest.Image(i)))) { skippedReal++; continue; }
            testIdx.Add(i);
        }
        if (testIdx.Count < p.NTest)
            throw new GenInputException($"only {testIdx.Count} images of '{realTest.Name}' are not also in the training split; lower --n-test");
        var fakeTest = fake.Take(true, p.NTest, p.N, log, FakeClasses(realTest, testIdx));
        CheckShape(fakeTest.C, fakeTest.H, fakeTest.W, realTrain);
        cancel.ThrowIfCancellationRequested();
        int fakeOverlap = Enumerable.Range(0, p.NTest).Count(i => trainHashes.Contains(Hash(fakeTest.Pixels.AsSpan(i * per, per))));
        if (fakeOverlap > 0)
            throw new GenInputException($"{fakeOverlap} test fake image(s) also appear among the training images; the fake source repeats itself — give distinct images");

        string tmp = outDir + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var files = new JsonArray();
            var cues = new JsonObject();
            foreach (var (split, realSet, realIdx, fk, n) in new[] { ("train", realTrain, trainIdx, fakeTrain, p.N), ("test", realTest, testIdx.ToArray(), fakeTest, p.NTest) })
            {
                byte[] realPx = new byte[n * per];
                for (int i = 0; i < n; i++) realSet.Image(realIdx[i]).CopyTo(realPx.AsSpan(i * per, per));
                var entries = new (string Label, byte[] Px, Func<int, JsonObject> Source)[]
                {
                    (DetectionData.Real, realPx, i => new JsonObject { ["real"] = realSet.Name, ["index"] = realIdx[i], ["class"] = ClassOf(realSet, realIdx[i]) }),
                    (DetectionData.Fake, fk.Pixels, i => FakeEntry(fk.Ids[i], classMap is null ? null : ClassOf(realSet, realIdx[i]))),
                };
                var splitCues = new JsonObject();
                foreach (var (label, px, source) in entries)
                {
                    cancel.ThrowIfCancellationRequested();
                    string dir = Path.Combine(tmp, split, label);
                    Directory.CreateDirectory(dir);
                    var hashes = new string[n];
                    var pngs = new byte[n][];
                    Parallel.For(0, n, i =>
                    {
                        var img = px.AsSpan(i * per, per);
                        hashes[i] = Hash(img);
                        pngs[i] = ImageCodec.EncodePng(img, realTrain.Channels, realTrain.Height, realTrain.Width);
                    });
                    for (int i = 0; i < n; i++)
                    {
                        string name = $"{i:D6}.png";
                        File.WriteAllBytes(Path.Combine(dir, name), pngs[i]);
                        JsonObject e = source(i);
                        e["path"] = $"{split}/{label}/{name}";
                        e["sha256"] = hashes[i];
                        files.Add(e);
                    }
                    splitCues[label] = Cues(px, n * per);
                }
                cues[split] = splitCues;
                log?.Report($"wrote {split}: {n} REAL + {n} FAKE");
            }
            var manifest = new JsonObject
            {
                ["format"] = Format,
                ["seed"] = p.Seed,
                ["shape"] = new JsonArray(realTrain.Channels, realTrain.Height, realTrain.Width),
                ["real"] = new JsonObject { ["train"] = realTrain.Name, ["test"] = realTest.Name, ["test_skipped_as_in_train"] = skippedReal },
                ["fake"] = fake.Describe.DeepClone(),
                ["fake_test_seed_base"] = fake.IsGenerator ? FakeSource.TestSeedBase : null,
                ["fake_classes"] = classing,
                ["counts"] = new JsonObject { ["train"] = new JsonObject { ["REAL"] = p.N, ["FAKE"] = p.N }, ["test"] = new JsonObject { ["REAL"] = p.NTest, ["FAKE"] = p.NTest } },
                ["pixel_path"] = "uint8 planar, lossless PNG for both classes; FAKE = round(clamp(x, 0, 1)·255) of the generator output",
                ["cues"] = cues,
                ["files"] = files,
            };
            File.WriteAllText(Path.Combine(tmp, ManifestFile), manifest.ToJsonString(Json.Options));
            Directory.Move(tmp, outDir);
            manifest.Remove("files");
            return manifest;
        }
        catch
        {
            try { Directory.Delete(tmp, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    internal static void CheckShape(int c, int h, int w, ImageSet real)
    {
        if ((c, h, w) != (real.Channels, real.Height, real.Width))
            throw new GenInputException($"fake images are {c}x{h}x{w} (channels x height x width) but '{real.Name}' is {real.Channels}x{real.Height}x{real.Width}; a detector must see both classes through the same pixel path — use a generator trained on this data");
    }

    private static JsonObject FakeEntry(string id, string? cls)
    {
        var e = new JsonObject { ["fake"] = id };
        if (cls is not null) e["class"] = cls;
        return e;
    }

    /// <summary>
    /// Real class index → generator class index, matched by name, when the generator samples by class and
    /// every real image of both splits has one of its classes; otherwise null, with the reason in <paramref name="note"/>.
    /// </summary>
    internal static int[]? ClassMap(FakeSource fake, ImageSet train, ImageSet test, out string note)
    {
        var gen = fake.Classes.ToList();
        if (gen.Count < 2) { note = "not matched: the fake source samples no classes"; return null; }
        if (train.ClassCount < 2 || !train.ClassNames.SequenceEqual(test.ClassNames))
        { note = $"not matched: '{train.Name}' and '{test.Name}' do not carry one set of class labels"; return null; }
        if (train.Labels.Concat(test.Labels).Any(l => l < 0 || l >= train.ClassCount))
        { note = "not matched: some real images have no class label"; return null; }
        var map = new int[train.ClassCount];
        for (int r = 0; r < map.Length; r++)
        {
            map[r] = gen.IndexOf(train.ClassNames[r]);
            if (map[r] < 0) { note = $"not matched: the generator has no class named '{train.ClassNames[r]}'"; return null; }
        }
        note = "matched: fake i of each split has the class of real i (seeds chosen by the generator's class of each seed)";
        return map;
    }

    private static string? ClassOf(ImageSet set, int i) =>
        set.Labels[i] >= 0 && set.Labels[i] < set.ClassCount ? set.ClassNames[set.Labels[i]] : null;

    private static string Hash(ReadOnlySpan<byte> pixels) => Convert.ToHexStringLower(SHA256.HashData(pixels));

    /// <summary>Mean and std of pixel values (0–255) and the fractions of exact 0 and exact 255.</summary>
    public static JsonObject Cues(byte[] px, int length)
    {
        double sum = 0, sq = 0;
        long zero = 0, full = 0;
        for (int i = 0; i < length; i++)
        {
            byte v = px[i];
            sum += v; sq += (double)v * v;
            if (v == 0) zero++; else if (v == 255) full++;
        }
        double mean = sum / length;
        return new JsonObject
        {
            ["mean"] = Math.Round(mean, 4),
            ["std"] = Math.Round(Math.Sqrt(Math.Max(0, sq / length - mean * mean)), 4),
            ["zero_fraction"] = Math.Round((double)zero / length, 6),
            ["full_fraction"] = Math.Round((double)full / length, 6),
        };
    }
}
