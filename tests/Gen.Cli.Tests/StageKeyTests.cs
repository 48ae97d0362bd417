// What keys a stage's output folder: semantic parameters and input content, not run options and not
// file modification times.
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Stages;

namespace Gen.Cli.Tests;

public sealed class StageKeyTests
{
    private static readonly MethodRegistry Registry = GenCli.Registry();

    private static string Key(string kind, string json, string dataHash)
    {
        var stage = Registry.Stage(kind)!;
        return StageKey.Compute(kind, stage.Resolve(JsonNode.Parse(json)!.AsObject(), "test"), [new StageInput("data", "d", dataHash)]);
    }

    [Fact]
    public void TrainKey_IgnoresRunOptions_ChangesWithSemanticParameters()
    {
        string a = Key("train-diffusion", """{ "steps": 10 }""", "h");
        Assert.Equal(a, Key("train-diffusion", """{ "steps": 10, "threads": 1, "log_every": 3, "checkpoint_every": 7 }""", "h"));
        Assert.NotEqual(a, Key("train-diffusion", """{ "steps": 11 }""", "h"));
        Assert.NotEqual(a, Key("train-diffusion", """{ "steps": 10, "width": 32 }""", "h"));
        Assert.NotEqual(a, Key("train-diffusion", """{ "steps": 10 }""", "other-data"));
        Assert.Equal(a, Key("train-diffusion", """{ "steps": 10, "channel_mult": "1,2,4" }""", "h"));   // the default, written as text
    }

    [Fact]
    public void FolderHash_IsContent_NotModificationTime()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 64, test: 16);
        string copy = tmp.File("copy");
        Directory.CreateDirectory(copy);
        foreach (string f in Directory.GetFiles(data)) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        foreach (string f in Directory.GetFiles(copy)) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-3));
        Assert.Equal(ContentHash.OfPath(data), ContentHash.OfPath(copy));
        string f0 = Directory.GetFiles(copy).Order().First();
        byte[] bytes = File.ReadAllBytes(f0);
        bytes[^1] ^= 1;
        File.WriteAllBytes(f0, bytes);
        Assert.NotEqual(ContentHash.OfPath(data), ContentHash.OfPath(copy));
    }
}
