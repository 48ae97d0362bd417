// Shared test helpers: temporary folders, synthetic datasets written in real file formats, fixtures.
using System.Runtime.CompilerServices;
using Gen.Pipeline.Data;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Pipeline.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init() => TestProcess.Init(oneThread: false);
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

    public static byte[] IdxImages(byte[] pixels, int n, int h, int w) => Idx.Images(pixels, n, h, w);

    public static byte[] IdxLabels(byte[] labels) => Idx.Labels(labels);

    public static byte[] Gzip(byte[] data) => Idx.Gzip(data);

    /// <summary>Writes an MNIST-style folder (four IDX files, gzipped or raw) and returns its path.</summary>
    public static string IdxDataset(string folder, int train = 256, int test = 128, int classes = 4, int size = 12, bool gz = true)
    {
        foreach (var (prefix, n, seed) in new[] { ("train", train, 1UL), ("t10k", test, 2UL) })
        {
            var (px, lab) = Images(n, classes, size, 1, seed);
            Idx.WritePair(folder, prefix, px, lab, size, gz);
        }
        return folder;
    }

}
