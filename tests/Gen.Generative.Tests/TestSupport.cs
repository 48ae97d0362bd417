// Shared test helpers for Gen.Generative: process setup (as Gen.Pipeline.Tests), temp folders and a
// tiny learnable image set held in memory.
using System.Runtime.CompilerServices;
using Gen.Pipeline;
using Gen.Pipeline.Data;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Generative.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init() => TestProcess.Init(oneThread: true);
}

public static class TinyData
{
    /// <summary>
    /// count grey images of size×size: class c is a bright square whose side grows with c on a dark
    /// background. Deterministic in seed.
    /// </summary>
    public static ImageSet Squares(int count, int size, int classes = 2, ulong seed = 1)
    {
        var px = new byte[count * size * size];
        var labels = new int[count];
        var rng = new SplitMix(seed);
        for (int n = 0; n < count; n++)
        {
            int c = (int)rng.NextBelow((ulong)classes);
            labels[n] = c;
            int side = 2 + 2 * c, y0 = (size - side) / 2, x0 = y0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    bool on = y >= y0 && y < y0 + side && x >= x0 && x < x0 + side;
                    px[(n * size + y) * size + x] = (byte)(on ? 200 + (int)rng.NextBelow(40) : (int)rng.NextBelow(30));
                }
        }
        var names = Enumerable.Range(0, classes).Select(i => $"class{i}").ToArray();
        return new ImageSet("squares", px, labels, 1, size, size, names, "memory");
    }
}
