using System.Text.Json;

namespace Gen.Cli.Tests;

public sealed class CommandLineTests
{
    [Fact]
    public void Help_ListsCommands_ExitZero()
    {
        var r = Cli.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("train", r.Out);
        Assert.Contains("data", r.Out);
    }

    [Theory]
    [InlineData("train", "classifier", "--help")]
    [InlineData("eval", "classifier", "--help")]
    [InlineData("data", "info", "--help")]
    [InlineData("data", "grid", "--help")]
    public void EverySubcommand_HasHelp(params string[] args)
    {
        var r = Cli.Run(args);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage", r.Out);
    }

    [Fact]
    public void UnknownOption_IsUsageError_ExitTwo_OneLine()
    {
        var r = Cli.Run("data", "info", "fashion-mnist", "--frobnicate");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.Contains("--frobnicate", r.Err);
    }

    [Fact]
    public void DataInfo_Json_DescribesIdxFolder()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 40, test: 8);
        var r = Cli.Run("data", "info", data, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Out);
        Assert.Equal(40, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(12, doc.RootElement.GetProperty("height").GetInt32());
        Assert.Equal(4, doc.RootElement.GetProperty("classes").GetArrayLength());
        var test = Cli.Run("data", "info", data + ":test", "--json");
        Assert.Equal(8, JsonDocument.Parse(test.Out).RootElement.GetProperty("count").GetInt32());
    }

    [Fact]
    public void DataGrid_WritesPng()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 40, test: 8);
        var r = Cli.Run("data", "grid", data, "--n", "10", "--out", tmp.File("g.png"), "--nrow", "5", "--scale", "1");
        Assert.Equal(0, r.ExitCode);
        var img = Gen.Pipeline.Imaging.ImageCodec.Decode(tmp.File("g.png"));
        Assert.Equal((1, 2 * 14 + 2, 5 * 14 + 2), (img.Channels, img.Height, img.Width));
    }

    [Theory]
    [InlineData("data", "info", "/no/such/dataset")]
    [InlineData("data", "grid", "/no/such/dataset", "--out", "x.png")]
    [InlineData("eval", "classifier", "/no/such/checkpoint.safetensors")]
    public void MissingPaths_ExitTwo_NamePath(params string[] args)
    {
        var r = Cli.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("/no/such/", r.Err);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--batch", "0")]
    [InlineData("--batch", "-4")]
    [InlineData("--steps", "0")]
    [InlineData("--epochs", "-1")]
    [InlineData("--lr", "0")]
    [InlineData("--width", "0")]
    [InlineData("--blocks", "2,0,2")]
    [InlineData("--threads", "-1")]
    [InlineData("--checkpoint-every", "-5")]
    public void NonPositiveSizes_ExitTwo_NameTheOption(string option, string value)
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 40, test: 8);
        var r = Cli.Run("train", "classifier", "--data", data, "--out", tmp.File("run"), option, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(option, r.Err);
        Assert.False(Directory.Exists(tmp.File("run")) && Directory.EnumerateFiles(tmp.File("run")).Any(f => f.EndsWith(".safetensors", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("--stage-batch", "fixed")]
    [InlineData("--stage-probs", "0.5,0.5")]
    [InlineData("--cascade", "8,16", "--stage-batch", "half")]
    [InlineData("--cascade", "8,16", "--stage-probs", "1,1,1")]
    [InlineData("--cascade", "8,16", "--stage-weights", "1,0")]
    public void DiffusionCascadeOptions_Bad_ExitTwo_NameTheOption(params string[] options)
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 40, test: 8);
        var r = Cli.Run(["train", "diffusion", "--data", data, "--out", tmp.File("run"), "--steps", "1", .. options]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(options[^2], r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
        Assert.False(Directory.Exists(tmp.File("run")) && Directory.EnumerateFiles(tmp.File("run")).Any(f => f.EndsWith(".safetensors", StringComparison.Ordinal)));
    }

    [Fact]
    public void GridZeroImages_ExitTwo()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 40, test: 8);
        var r = Cli.Run("data", "grid", data, "--n", "0", "--out", tmp.File("g.png"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--n", r.Err);
    }

    [Fact]
    public void DataInfo_DoesNotLoadLibtorch()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 20, test: 8);
        var env = new Dictionary<string, string> { ["GEN_TRACE_NATIVE"] = "1" };
        var info = Cli.RunProcess(env, "data", "info", data);
        Assert.Equal(0, info.ExitCode);
        Assert.Contains("native: libtorch not loaded", info.Err);
        var help = Cli.RunProcess(env, "--help");
        Assert.Contains("native: libtorch not loaded", help.Err);
    }
}
