// Resolves a dataset reference (short name, folder or file, with an optional ":train"/":test" split)
// to an ImageSet. Short names are looked up in: an explicit folder, $GEN_DATA/<name>, the user cache
// ($GEN_HOME/datasets/<name>), then Debian's package folder (/usr/share/datasets/<name>); failing
// those, the canonical files are downloaded (unless GEN_OFFLINE=1) and their checksums verified.
using System.Globalization;

using Gen.Pipeline.Imaging;

namespace Gen.Pipeline.Data;

public enum Split { Train, Test }

public sealed record DatasetRef(string Spec, string? ShortName, string? Path, Split? Split)
{
    /// <summary>Parses "fashion-mnist", "fashion-mnist:test", "/data/x", "/data/x:train".</summary>
    public static DatasetRef Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec))
            throw new GenInputException("empty dataset name; pass --data fashion-mnist, mnist, cifar10, cifar100 or a folder");
        string body = spec;
        Split? split = null;
        int colon = spec.LastIndexOf(':');
        if (colon > 0)
        {
            string tail = spec[(colon + 1)..].ToLowerInvariant();
            if (tail is "train" or "test")
            {
                split = tail == "train" ? Data.Split.Train : Data.Split.Test;
                body = spec[..colon];
            }
        }
        string lower = body.ToLowerInvariant();
        if (DatasetCatalog.Known.ContainsKey(lower) && !Directory.Exists(body) && !File.Exists(body))
            return new DatasetRef(spec, lower, null, split);
        return new DatasetRef(spec, null, body, split);
    }
}

public sealed record KnownDataset(string Name, string Title, string DebianPackage, IReadOnlyList<string> ClassNames,
                                  IReadOnlyList<DownloadFile> Files);

public static class DatasetCatalog
{
    public static readonly string[] FashionMnistClasses =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    // Checksums: Fashion-MNIST by SHA-256 of the *decompressed* IDX files, measured on Debian's
    // dataset-fashion-mnist (whose .gz files are recompressed, so their hashes differ from the
    // upstream .gz); MNIST and CIFAR by MD5 of the archives as torchvision and the CIFAR page list them.
    public static readonly IReadOnlyDictionary<string, KnownDataset> Known = new Dictionary<string, KnownDataset>
    {
        ["fashion-mnist"] = new("fashion-mnist", "Fashion-MNIST", "dataset-fashion-mnist", FashionMnistClasses,
        [
            new("train-images-idx3-ubyte.gz", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", ChecksumKind.Sha256OfGunzipped),
            new("train-labels-idx1-ubyte.gz", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", ChecksumKind.Sha256OfGunzipped),
            new("t10k-images-idx3-ubyte.gz", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", ChecksumKind.Sha256OfGunzipped),
            new("t10k-labels-idx1-ubyte.gz", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", ChecksumKind.Sha256OfGunzipped),
        ]),
        ["mnist"] = new("mnist", "MNIST", "", Digits,
        [
            new("train-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
                "f68b3c2dcbeaaa9fbdd348bbdeb94873", ChecksumKind.Md5),
            new("train-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz",
                "d53e105ee54ea40749a09fcbcd1e9432", ChecksumKind.Md5),
            new("t10k-images-idx3-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz",
                "9fb629c4189551a2d022fa330f9573f3", ChecksumKind.Md5),
            new("t10k-labels-idx1-ubyte.gz", "https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz",
                "ec29112dd5afa0611ce80d1b7f02629c", ChecksumKind.Md5),
        ]),
        ["cifar10"] = new("cifar10", "CIFAR-10", "", CifarReader.Cifar10Classes,
        [
            new("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                "c32a1d4ab5d03f1284b67883e8d87530", ChecksumKind.Md5, ExtractTar: true),
        ]),
        ["cifar100"] = new("cifar100", "CIFAR-100", "", [],
        [
            new("cifar-100-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                "03b5dce01913d631647c71ecec9e9cb8", ChecksumKind.Md5, ExtractTar: true),
        ]),
    };

    /// <summary>Loads a dataset; <paramref name="defaultSplit"/> applies when the reference names none.</summary>
    public static ImageSet Load(string spec, Split defaultSplit, IProgress<string>? log = null)
    {
        var r = DatasetRef.Parse(spec);
        Split split = r.Split ?? defaultSplit;
        if (r.ShortName is not null)
        {
            KnownDataset known = Known[r.ShortName];
            string folder = Locate(known, log);
            return LoadFolder(folder, split, $"{known.Name}:{SplitName(split)}", known);
        }
        string path = r.Path!;
        if (File.Exists(path)) return LoadFile(path, split);
        if (Directory.Exists(path)) return LoadFolder(path, split, $"{System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(path))}:{SplitName(split)}", null);
        throw new GenInputException($"dataset '{spec}' not found: no such file or folder, and not one of the short names {string.Join(", ", Known.Keys)}");
    }

    public static string SplitName(Split s) => s == Split.Train ? "train" : "test";

    /// <summary>"fashion-mnist:test" for "fashion-mnist" (any split suffix replaced).</summary>
    public static string WithSplit(string spec, Split split)
    {
        var r = DatasetRef.Parse(spec);
        return $"{r.ShortName ?? r.Path!}:{SplitName(split)}";
    }

    /// <summary>Folder holding a known dataset's files, searched in the documented order; downloads as a last resort.</summary>
    public static string Locate(KnownDataset known, IProgress<string>? log = null)
    {
        foreach (string candidate in Candidates(known.Name))
            if (HasFiles(candidate, known)) return candidate;
        string target = System.IO.Path.Combine(GenPaths.Datasets, known.Name);
        if (Environment.GetEnvironmentVariable("GEN_OFFLINE") != "1")
        {
            try
            {
                Downloader.Fetch(known, target, log);
                if (HasFiles(target, known)) return target;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or OperationCanceledException)
            {
                log?.Report($"download of {known.Title} failed: {e.Message}");
            }
        }
        string looked = string.Join(", ", Candidates(known.Name));
        string fix = known.DebianPackage.Length > 0
            ? $"install it with 'sudo apt-get install {known.DebianPackage}', or put its files in {target}"
            : $"put its files in {target} (or a folder named by --data or $GEN_DATA)";
        throw new GenInputException($"{known.Title} not found (looked in {looked}) and it could not be downloaded; {fix}");
    }

    public static IEnumerable<string> Candidates(string name)
    {
        string? genData = Environment.GetEnvironmentVariable("GEN_DATA");
        if (!string.IsNullOrEmpty(genData)) yield return System.IO.Path.Combine(genData, name);
        yield return System.IO.Path.Combine(GenPaths.Datasets, name);
        yield return System.IO.Path.Combine("/usr/share/datasets", name);
    }

    private static bool HasFiles(string folder, KnownDataset known)
    {
        if (!Directory.Exists(folder)) return false;
        return known.Name switch
        {
            "cifar10" => FindCifar10(folder) is not null,
            "cifar100" => FindCifar100(folder) is not null,
            _ => FindIdx(folder, Split.Train) is not null && FindIdx(folder, Split.Test) is not null,
        };
    }

    /// <summary>Loads a folder: IDX pair, CIFAR batches, class-per-subfolder images, or the CIFAKE layout.</summary>
    public static ImageSet LoadFolder(string folder, Split split, string name, KnownDataset? known)
    {
        if (FindIdx(folder, split) is { } idx)
        {
            var (px, lab, c, h, w) = IdxReader.ReadPair(idx.Images, idx.Labels);
            IReadOnlyList<string> classes = known?.ClassNames ?? GuessIdxClasses(folder, lab);
            CheckLabels(lab, classes.Count, idx.Labels);
            return new ImageSet(name, px, lab, c, h, w, classes, folder);
        }
        if (FindCifar10(folder) is { } c10)
        {
            var files = split == Split.Train ? c10.Train : [c10.Test];
            var (px, lab) = CifarReader.Read(files, CifarKind.Cifar10);
            return new ImageSet(name, px, lab, 3, 32, 32, CifarReader.ClassNames(c10.Folder, CifarKind.Cifar10), c10.Folder);
        }
        if (FindCifar100(folder) is { } c100)
        {
            var (px, lab) = CifarReader.Read([split == Split.Train ? c100.Train : c100.Test], CifarKind.Cifar100);
            return new ImageSet(name, px, lab, 3, 32, 32, CifarReader.ClassNames(c100.Folder, CifarKind.Cifar100), c100.Folder);
        }
        return ImageFolderReader.Read(folder, split, name);
    }

    /// <summary>A single file: an IDX image file (labels from its sibling when present) or a CIFAR batch.</summary>
    public static ImageSet LoadFile(string path, Split split)
    {
        string file = System.IO.Path.GetFileName(path);
        byte[] head = new byte[4];
        using (var fs = File.OpenRead(path)) fs.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        bool gz = head[0] == 0x1f && head[1] == 0x8b;
        if (gz || (head[0] == 0 && head[1] == 0 && head[2] == 8))
        {
            IdxArray a = IdxReader.Read(path);
            if (a.Shape.Length == 1)
                throw new GenInputException($"'{path}' is an IDX label file; pass the image file or the folder holding both");
            if (a.Shape.Length is not (3 or 4))
                throw new GenInputException($"'{path}' has {a.Shape.Length} dimensions; an IDX image file has 3 (N×H×W)");
            string? labels = SiblingLabels(path);
            if (labels is not null)
            {
                var (px, lab, c, h, w) = IdxReader.ReadPair(path, labels);
                return new ImageSet(file, px, lab, c, h, w, GuessIdxClasses(System.IO.Path.GetDirectoryName(path)!, lab), path);
            }
            int n = a.Shape[0];
            if (a.Shape.Length == 4)
                throw new GenInputException($"'{path}' holds multi-channel images without a label file beside it; put its labels file next to it");
            return new ImageSet(file, a.Data, Enumerable.Repeat(-1, n).ToArray(), 1, a.Shape[1], a.Shape[2], [], path);
        }
        long size = new FileInfo(path).Length;
        if (CifarReader.GuessKind(size) is { } kind)
        {
            var (px, lab) = CifarReader.Read([path], kind);
            return new ImageSet(file, px, lab, 3, 32, 32, CifarReader.ClassNames(System.IO.Path.GetDirectoryName(path)!, kind), path);
        }
        if (ImageCodec.IsImageFile(path))
        {
            var img = ImageCodec.Decode(path);
            return new ImageSet(file, img.Pixels, [-1], img.Channels, img.Height, img.Width, [], path);
        }
        throw new GenInputException($"'{path}' is neither an IDX file, a CIFAR binary batch (its size {size} is not a multiple of 3073 or 3074 bytes) nor a PNG/JPEG image");
    }

    internal sealed record IdxFiles(string Images, string Labels);

    internal static IdxFiles? FindIdx(string folder, Split split)
    {
        if (!Directory.Exists(folder)) return null;
        string prefix = split == Split.Train ? "train" : "t10k";
        string? Find(string kind) => Directory.EnumerateFiles(folder)
            .Where(f =>
            {
                string n = System.IO.Path.GetFileName(f).ToLowerInvariant();
                return n.StartsWith(prefix + "-" + kind, StringComparison.Ordinal) && n.Contains(kind == "images" ? "idx3" : "idx1", StringComparison.Ordinal);
            })
            .OrderBy(f => f, StringComparer.Ordinal).FirstOrDefault();
        string? images = Find("images"), labels = Find("labels");
        return images is not null && labels is not null ? new IdxFiles(images, labels) : null;
    }

    private static string? SiblingLabels(string imagesPath)
    {
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(imagesPath))!;
        string name = System.IO.Path.GetFileName(imagesPath);
        string guess = name.Replace("images", "labels", StringComparison.Ordinal).Replace("idx3", "idx1", StringComparison.Ordinal);
        if (guess == name) return null;
        foreach (string cand in new[] { guess, guess.EndsWith(".gz", StringComparison.Ordinal) ? guess[..^3] : guess + ".gz" })
        {
            string p = System.IO.Path.Combine(dir, cand);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    private static IReadOnlyList<string> GuessIdxClasses(string folder, int[] labels)
    {
        int max = labels.Length == 0 ? 0 : labels.Max();
        if (folder.Contains("fashion", StringComparison.OrdinalIgnoreCase) && max < 10) return FashionMnistClasses;
        return Enumerable.Range(0, max + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
    }

    private static void CheckLabels(int[] labels, int classes, string path)
    {
        for (int i = 0; i < labels.Length; i++)
            if (labels[i] >= classes)
                throw new GenInputException($"'{path}' label {i} is {labels[i]}, outside the {classes} classes of this dataset; the file does not belong to it");
    }

    internal sealed record Cifar10Files(string Folder, string[] Train, string Test);
    internal sealed record Cifar100Files(string Folder, string Train, string Test);

    internal static Cifar10Files? FindCifar10(string folder)
    {
        foreach (string f in new[] { folder, System.IO.Path.Combine(folder, "cifar-10-batches-bin") })
        {
            var train = Enumerable.Range(1, 5).Select(i => System.IO.Path.Combine(f, $"data_batch_{i}.bin")).ToArray();
            string test = System.IO.Path.Combine(f, "test_batch.bin");
            if (train.All(File.Exists) && File.Exists(test)) return new Cifar10Files(f, train, test);
        }
        return null;
    }

    internal static Cifar100Files? FindCifar100(string folder)
    {
        foreach (string f in new[] { folder, System.IO.Path.Combine(folder, "cifar-100-binary") })
        {
            string train = System.IO.Path.Combine(f, "train.bin"), test = System.IO.Path.Combine(f, "test.bin");
            if (File.Exists(train) && File.Exists(test)) return new Cifar100Files(f, train, test);
        }
        return null;
    }
}
