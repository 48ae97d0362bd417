// Shared test helpers: temporary folders, synthetic datasets written in real file formats, fixtures.
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Gen.Pipeline.Data;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Pipeline.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init()
    {
        MallocTuning.Apply();
        Environment.SetEnvironmentVariable("GEN_OFFLINE", "1");
    }
}

public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gen-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

public static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", name);
}

public static class Synthetic
{
    /// <summary>
    /// A learnable toy dataset: class c shows a 4×4 square of brightness 60 + 180·c/(classes−1) near the
    /// centre of a dark noisy background (unchanged by flips and small shifts, so the standard
    /// augmentations keep it learnable). Deterministic in seed.
    /// </summary>
    public static (byte[] Pixels, byte[] Labels) Images(int count, int classes, int size, int channels, ulong seed)
    {
        var px = new byte[count * channels * size * size];
        var labels = new byte[count];
        var rng = new SplitMix(seed);
        for (int n = 0; n < count; n++)
        {
            int c = (int)rng.NextBelow((ulong)classes);
            labels[n] = (byte)c;
            int level = 60 + 180 * c / Math.Max(classes - 1, 1);
            int y0 = size / 2 - 2 + (int)rng.NextBelow(3) - 1, x0 = size / 2 - 2 + (int)rng.NextBelow(3) - 1;
            for (int ch = 0; ch < channels; ch++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        bool on = y >= y0 && y < y0 + 4 && x >= x0 && x < x0 + 4;
                        int v = on ? level + (int)rng.NextBelow(16) : (int)rng.NextBelow(40);
                        px[((n * channels + ch) * size + y) * size + x] = (byte)Math.Min(v, 255);
                    }
        }
        return (px, labels);
    }

    public static byte[] IdxImages(byte[] pixels, int n, int h, int w)
    {
        var b = new byte[16 + pixels.Length];
        b[2] = 0x08; b[3] = 3;
        WriteBE(b, 4, n); WriteBE(b, 8, h); WriteBE(b, 12, w);
        pixels.CopyTo(b, 16);
        return b;
    }

    public static byte[] IdxLabels(byte[] labels)
    {
        var b = new byte[8 + labels.Length];
        b[2] = 0x08; b[3] = 1;
        WriteBE(b, 4, labels.Length);
        labels.CopyTo(b, 8);
        return b;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>Writes an MNIST-style folder (four IDX files, gzipped or raw) and returns its path.</summary>
    public static string IdxDataset(string folder, int train = 256, int test = 128, int classes = 4, int size = 12, bool gz = true)
    {
        Directory.CreateDirectory(folder);
        foreach (var (prefix, n, seed) in new[] { ("train", train, 1UL), ("t10k", test, 2UL) })
        {
            var (px, lab) = Images(n, classes, size, 1, seed);
            string ext = gz ? ".gz" : "";
            File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-images-idx3-ubyte{ext}"), gz ? Gzip(IdxImages(px, n, size, size)) : IdxImages(px, n, size, size));
            File.WriteAllBytes(System.IO.Path.Combine(folder, $"{prefix}-labels-idx1-ubyte{ext}"), gz ? Gzip(IdxLabels(lab)) : IdxLabels(lab));
        }
        return folder;
    }

    private static void WriteBE(byte[] b, int at, int v)
    {
        b[at] = (byte)(v >> 24); b[at + 1] = (byte)(v >> 16); b[at + 2] = (byte)(v >> 8); b[at + 3] = (byte)v;
    }
}
