using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Models;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Checkpoints;

public sealed class CheckpointTests
{
    private static readonly ResNetConfig Small = new() { InChannels = 1, Classes = 3, Widths = [4, 8], Blocks = [1, 1] };

    [Fact]
    public void SaveLoad_RoundTripGivesIdenticalOutputs()
    {
        using var tmp = new TempDir();
        using var a = new ResNet(Small, new Generator(1));
        using var b = new ResNet(Small, new Generator(2));
        a.eval(); b.eval();
        Checkpoint.Save(tmp.File("m.safetensors"), a, "classifier", Gen.Pipeline.Json.Serialize(Small, false), 42);
        var (file, info) = Checkpoint.Open(tmp.File("m.safetensors"), "classifier");
        Assert.Equal(42, info.Step);
        Assert.Equal(GenPaths.Version, info.Version);
        Checkpoint.LoadInto(b, file);
        using var x = rand(2, 1, 8, 8, generator: new Generator(3));
        FixtureTensors.AssertClose(a.call(x), b.call(x), 0);
    }

    [Fact]
    public void ReadInfo_HeaderOnly_SameAsFullRead_RefusesTruncatedFile()
    {
        using var tmp = new TempDir();
        using var a = new ResNet(Small, new Generator(1));
        Checkpoint.Save(tmp.File("m.safetensors"), a, "classifier", "{\"x\":1}", 7, new Dictionary<string, string> { ["extra"] = "e" });
        var (_, full) = Checkpoint.Open(tmp.File("m.safetensors"));
        CheckpointInfo head = Checkpoint.ReadInfo(tmp.File("m.safetensors"));
        Assert.Equal((full.Kind, full.ConfigJson, full.Step, full.Version), (head.Kind, head.ConfigJson, head.Step, head.Version));
        Assert.Equal(full.Metadata.OrderBy(kv => kv.Key), head.Metadata.OrderBy(kv => kv.Key));
        byte[] bytes = File.ReadAllBytes(tmp.File("m.safetensors"));
        File.WriteAllBytes(tmp.File("cut.safetensors"), bytes[..^10]);
        Assert.Contains("truncated", Assert.Throws<GenInputException>(() => Checkpoint.ReadInfo(tmp.File("cut.safetensors"))).Message);
    }

    [Fact]
    public void WrongKind_Refused()
    {
        using var tmp = new TempDir();
        using var a = new ResNet(Small);
        Checkpoint.Save(tmp.File("m.safetensors"), a, "edm", "{}", 1);
        var e = Assert.Throws<GenInputException>(() => Checkpoint.Open(tmp.File("m.safetensors"), "classifier"));
        Assert.Contains("'edm'", e.Message);
        Assert.Contains("'classifier'", e.Message);
    }

    [Fact]
    public void WrongShape_NamesTensorAndBothShapes()
    {
        using var tmp = new TempDir();
        using var a = new ResNet(Small);
        using var wide = new ResNet(Small with { Widths = [4, 16] });
        Checkpoint.Save(tmp.File("m.safetensors"), wide, "classifier", "{}", 1);
        var (file, _) = Checkpoint.Open(tmp.File("m.safetensors"));
        var e = Assert.Throws<GenInputException>(() => Checkpoint.LoadInto(a, file));
        Assert.Contains("shape", e.Message);
        Assert.Contains("[16", e.Message);
    }

    [Fact]
    public void MissingKeys_Refused()
    {
        using var tmp = new TempDir();
        using var a = new ResNet(Small);
        using var deeper = new ResNet(Small with { Blocks = [2, 1] });
        Checkpoint.Save(tmp.File("m.safetensors"), a, "classifier", "{}", 1);
        var (file, _) = Checkpoint.Open(tmp.File("m.safetensors"));
        var e = Assert.Throws<GenInputException>(() => Checkpoint.LoadInto(deeper, file));
        Assert.Contains("lacks", e.Message);
    }

    [Fact]
    public void ForeignSafetensors_WithoutGenMetadata_Refused()
    {
        var e = Assert.Throws<GenInputException>(() => Checkpoint.Open(Fixtures.Path("optim.safetensors")));
        Assert.Contains("gen.kind", e.Message);
    }

    [Fact]
    public void AtomicWrite_NeverLeavesPartialTarget()
    {
        using var tmp = new TempDir();
        string path = tmp.File("x.bin");
        AtomicFile.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s => { s.Write([9, 9]); throw new InvalidOperationException("crash mid-write"); }));
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Single(Directory.GetFiles(tmp.Path)); // the temp file was cleaned up
    }
}
