// Reader for the binary versions of CIFAR-10 and CIFAR-100 (Krizhevsky, "Learning Multiple Layers
// of Features from Tiny Images", 2009; layout from https://www.cs.toronto.edu/~kriz/cifar.html):
// CIFAR-10 records are <1 label byte><3072 pixel bytes>, CIFAR-100 records <coarse><fine><3072>,
// pixels as 1024 red, then green, then blue bytes of a 32×32 image in row-major order.
namespace Gen.Pipeline.Data;

public enum CifarKind { Cifar10, Cifar100 }

public static class CifarReader
{
    public const int PixelBytes = 3 * 32 * 32;

    public static readonly string[] Cifar10Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    public static int RecordBytes(CifarKind kind) => kind == CifarKind.Cifar10 ? PixelBytes + 1 : PixelBytes + 2;

    /// <summary>Reads one or more batch files of the same kind, concatenated in the order given.</summary>
    public static (byte[] Pixels, int[] Labels) Read(IReadOnlyList<string> files, CifarKind kind)
    {
        int rec = RecordBytes(kind);
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (string f in files)
        {
            if (!File.Exists(f))
                throw new GenInputException($"CIFAR batch file '{f}' does not exist; check the folder holds the binary version (cifar-10-batches-bin or cifar-100-binary)");
            byte[] raw = File.ReadAllBytes(f);
            if (raw.Length == 0 || raw.Length % rec != 0)
                throw new GenInputException($"CIFAR file '{f}' has {raw.Length} bytes, not a multiple of the {rec}-byte {(kind == CifarKind.Cifar10 ? "CIFAR-10" : "CIFAR-100")} record; the file is truncated or of another kind, download it again");
            int n = raw.Length / rec;
            var px = new byte[(long)n * PixelBytes];
            for (int i = 0; i < n; i++)
            {
                int off = i * rec;
                int label = kind == CifarKind.Cifar10 ? raw[off] : raw[off + 1];
                int max = kind == CifarKind.Cifar10 ? 10 : 100;
                if (label >= max)
                    throw new GenInputException($"CIFAR file '{f}' record {i} has label {label}, outside 0..{max - 1}; it is not a {(kind == CifarKind.Cifar10 ? "CIFAR-10" : "CIFAR-100")} batch");
                labels.Add(label);
                Buffer.BlockCopy(raw, off + rec - PixelBytes, px, i * PixelBytes, PixelBytes);
            }
            pixels.Add(px);
        }
        var all = new byte[pixels.Sum(p => (long)p.Length)];
        long at = 0;
        foreach (var p in pixels) { Buffer.BlockCopy(p, 0, all, (int)at, p.Length); at += p.Length; }
        return (all, labels.ToArray());
    }

    /// <summary>Guesses the kind of a single batch file from its size (CIFAR-10 first).</summary>
    public static CifarKind? GuessKind(long fileBytes)
    {
        if (fileBytes > 0 && fileBytes % RecordBytes(CifarKind.Cifar10) == 0) return CifarKind.Cifar10;
        if (fileBytes > 0 && fileBytes % RecordBytes(CifarKind.Cifar100) == 0) return CifarKind.Cifar100;
        return null;
    }

    /// <summary>Class names from batches.meta.txt / fine_label_names.txt when present.</summary>
    public static IReadOnlyList<string> ClassNames(string folder, CifarKind kind)
    {
        string meta = Path.Combine(folder, kind == CifarKind.Cifar10 ? "batches.meta.txt" : "fine_label_names.txt");
        if (File.Exists(meta))
        {
            var names = File.ReadAllLines(meta).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (names.Length == (kind == CifarKind.Cifar10 ? 10 : 100)) return names;
        }
        return kind == CifarKind.Cifar10
            ? Cifar10Classes
            : Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }
}
