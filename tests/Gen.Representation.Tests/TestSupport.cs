// Test helpers for Gen.Representation: module initializer (malloc tuning, offline, no test
// parallelism — tests share 2 cores and libtorch threads), temporary folders, and small synthetic
// datasets written in real file formats (grey IDX pairs; an RGB PNG class-folder tree), after the
// approach of tests/Gen.Pipeline.Tests/TestSupport.cs.
using System.Runtime.CompilerServices;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Imaging;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Representation.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init() => TestProcess.Init(oneThread: true);
}

public static class Synthetic
{
    /// <summary>
    /// Class c is a bright bar whose orientation and position depend on c, on a noisy dark background:
    /// learnable by an encoder, not trivially by brightness alone. Deterministic in seed.
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
            bool vertical = c % 2 == 0;
            int pos = 2 + c * (size - 4) / Math.Max(classes, 1) + (int)rng.NextBelow(2);
            for (int ch = 0; ch < channels; ch++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        bool on = vertical ? x >= pos && x < pos + 2 : y >= pos && y < pos + 2;
                        int v = on ? 180 + (int)rng.NextBelow(60) : (int)rng.NextBelow(50);
                        px[((n * channels + ch) * size + y) * size + x] = (byte)v;
                    }
        }
        return (px, labels);
    }

    /// <summary>A grey MNIST-style folder (four gzipped IDX files).</summary>
    public static string IdxDataset(string folder, int train = 256, int test = 128, int classes = 4, int size = 12)
    {
        foreach (var (prefix, n, seed) in new[] { ("train", train, 1UL), ("t10k", test, 2UL) })
        {
            var (px, lab) = Images(n, classes, size, 1, seed);
            Idx.WritePair(folder, prefix, px, lab, size, gz: true);
        }
        return folder;
    }

    /// <summary>An RGB image-folder tree ROOT/train|test/classN/*.png.</summary>
    public static string RgbFolder(string folder, int perClass = 4, int classes = 2, int size = 12)
    {
        foreach (var (split, seed) in new[] { ("train", 3UL), ("test", 4UL) })
        {
            var (px, lab) = Images(perClass * classes * 2, classes, size, 3, seed);
            int per = 3 * size * size;
            for (int i = 0; i < lab.Length; i++)
            {
                string dir = System.IO.Path.Combine(folder, split, $"class{lab[i]}");
                Directory.CreateDirectory(dir);
                ImageCodec.WritePng(System.IO.Path.Combine(dir, $"{i:D4}.png"), px.AsSpan(i * per, per), 3, size, size);
            }
        }
        return folder;
    }


}

/// <summary>Shared tiny datasets, built once per test run.</summary>
public static class TinyData
{
    private static readonly Lazy<string> Folder = new(() =>
        Synthetic.IdxDataset(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gen-repr-tiny-" + Environment.ProcessId)));

    public static string Path => Folder.Value;

    public static ImageSet Train => DatasetCatalog.Load(Path, Split.Train);
    public static ImageSet Test => DatasetCatalog.Load(Path, Split.Test);
}

public static class TensorAssert
{
    /// <summary>Same shape and bit-identical values.</summary>
    public static bool Same(this TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
