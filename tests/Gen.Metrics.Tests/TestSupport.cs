// Shared test helpers: module set-up, temporary folders, fixture paths and the reference JSON written by
// tests/fixtures/make_inception_fixtures.py.
using System.Runtime.CompilerServices;
using System.Text.Json;
using Gen.Pipeline;

[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]

namespace Gen.Metrics.Tests;

internal static class TestInit
{
    [ModuleInitializer]
    internal static void Init() => TestProcess.Init(oneThread: false);
}

/// <summary>Runs `gen` in-process with captured output.</summary>
public static class GenRun
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = Gen.Cli.GenCli.Run(args, o, e, interactive: false);
        return (code, o.ToString(), e.ToString());
    }
}

public static class Fixtures
{
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "metrics", name);

    private static readonly Lazy<JsonElement> Json = new(() => JsonDocument.Parse(File.ReadAllText(Path("reference.json"))).RootElement);

    /// <summary>reference.json, e.g. Reference("metrics", "fid_d64_n500", "fid").</summary>
    public static JsonElement Reference(params string[] keys)
    {
        JsonElement e = Json.Value;
        foreach (string k in keys) e = e.GetProperty(k);
        return e;
    }

    public static double Number(params string[] keys) => Reference(keys).GetDouble();

    public static void AssertRel(double expected, double actual, double rel, string what = "")
    {
        double err = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), 1e-300);
        Assert.True(err <= rel, $"{what}: expected {expected:R}, got {actual:R} (relative error {err:G3} > {rel:G3})");
    }
}

public static class SyntheticIdx
{
    /// <summary>An MNIST-style folder of 28×28 images: class c is a bright square whose size grows with c.</summary>
    public static string Write(string folder, int train = 320, int test = 160, int classes = 10)
    {
        foreach (var (prefix, n, seed) in new[] { ("train", train, 1UL), ("t10k", test, 2UL) })
        {
            var rng = new Gen.Pipeline.Data.SplitMix(seed);
            var px = new byte[n * 784];
            var labels = new byte[n];
            for (int i = 0; i < n; i++)
            {
                int c = (int)rng.NextBelow((ulong)classes);
                labels[i] = (byte)c;
                int half = 2 + c, cy = 14 + (int)rng.NextBelow(3) - 1;
                for (int y = 0; y < 28; y++)
                    for (int x = 0; x < 28; x++)
                        px[i * 784 + y * 28 + x] = (byte)(Math.Abs(y - cy) < half && Math.Abs(x - 14) < half ? 200 + (int)rng.NextBelow(40) : (int)rng.NextBelow(30));
            }
            Idx.WritePair(folder, prefix, px, labels, 28, gz: false);
        }
        return folder;
    }
}
