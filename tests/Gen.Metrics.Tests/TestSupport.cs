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
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gen-metrics-test-" + Guid.NewGuid().ToString("N")[..12]);
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
