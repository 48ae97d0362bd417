using System.Text.Json.Nodes;
using Gen.Pipeline.Stages;

namespace Gen.Pipeline.Tests.Stages;

public sealed class StageManifestTests
{
    [Fact]
    public void Key_IgnoresJsonKeyOrder_ButNotValues()
    {
        var inputs = new[] { new StageInput("data", "x", "sha256:ab") };
        string k1 = StageKey.Compute("train", JsonNode.Parse("{\"a\":1,\"b\":{\"c\":2,\"d\":3}}")!, inputs);
        string k2 = StageKey.Compute("train", JsonNode.Parse("{\"b\":{\"d\":3,\"c\":2},\"a\":1}")!, inputs);
        string k3 = StageKey.Compute("train", JsonNode.Parse("{\"a\":2,\"b\":{\"c\":2,\"d\":3}}")!, inputs);
        string k4 = StageKey.Compute("train", JsonNode.Parse("{\"a\":1,\"b\":{\"c\":2,\"d\":3}}")!, [new StageInput("data", "x", "sha256:cd")]);
        Assert.Equal(k1, k2);
        Assert.NotEqual(k1, k3);
        Assert.NotEqual(k1, k4);
    }

    [Fact]
    public void ContentHash_ChangesWithFileContent()
    {
        using var tmp = new TempDir();
        File.WriteAllText(tmp.File("a.txt"), "one");
        string h1 = ContentHash.OfPath(tmp.File("a.txt"));
        string t1 = ContentHash.OfPath(tmp.Path);
        File.WriteAllText(tmp.File("a.txt"), "two!");
        Assert.NotEqual(h1, ContentHash.OfPath(tmp.File("a.txt")));
        Assert.NotEqual(t1, ContentHash.OfPath(tmp.Path));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("two!"u8.ToArray())), ContentHash.OfPath(tmp.File("a.txt")));
    }

    [Fact]
    public void Manifest_RoundTrips()
    {
        using var tmp = new TempDir();
        var m = new StageManifest { Kind = "k", Params = JsonNode.Parse("{\"x\":1}")!, Inputs = [new StageInput("i", "s", "h")], Status = StageStatus.Complete };
        m.Write(tmp.Path);
        var back = StageManifest.Read(tmp.Path)!;
        Assert.Equal(StageStatus.Complete, back.Status);
        Assert.Equal(m.Key, back.Key);
    }
}
