using System.Text.Json;
using Gen.Cli;
using Gen.Pipeline.Checkpoints;
using static TorchSharp.torch;

namespace Gen.Representation.Tests;

public sealed class CliTests
{
    private static (int Code, string Out, string Err) Gen(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = GenCli.Run(args, o, e, interactive: false);
        return (code, o.ToString(), e.ToString());
    }

    private static string Pretrained(TempDir tmp, string method = "simclr", params string[] extra)
    {
        string run = tmp.File(method);
        var (code, _, err) = Gen(["pretrain", "--method", method, "--data", TinyData.Path, "--steps", "12", "--batch", "32",
                                  "--threads", "1", "--knn-every", "0", "--knn-k", "20", "--out", run, "--json", .. extra]);
        Assert.True(code == 0, err);
        return run;
    }

    [Fact]
    public void PretrainThenProbe_EndToEnd_BeatsChance()
    {
        using var tmp = new TempDir();
        string run = Pretrained(tmp, "simclr", "--hallucinator");
        Assert.True(File.Exists(Path.Combine(run, "plots", "loss.png")));
        Assert.True(File.Exists(Path.Combine(run, "metrics.jsonl")));
        var (code, stdout, err) = Gen("probe", run, "--k", "20", "--linear-epochs", "10", "--json");
        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("hallucinator").GetBoolean());
        Assert.True(root.GetProperty("linear").GetProperty("top1").GetDouble() > 0.4, stdout);   // 4 classes: chance is 0.25
        Assert.True(root.GetProperty("knn").GetProperty("top1").GetDouble() > 0.4, stdout);
        Assert.True(File.Exists(Path.Combine(run, "probe.json")));
    }

    [Fact]
    public void Floors_RawPixelsAndRandomInit_Run()
    {
        using var tmp = new TempDir();
        var (code, stdout, err) = Gen("probe", "--raw-pixels", "--data", TinyData.Path, "--k", "20", "--linear-epochs", "5", "--json");
        Assert.True(code == 0, err);
        Assert.Contains("\"raw-pixels\"", stdout);
        (code, stdout, err) = Gen("probe", "--random-init", "--data", TinyData.Path, "--k", "20", "--linear-epochs", "5", "--out", tmp.File("r"));
        Assert.True(code == 0, err);
        Assert.True(File.Exists(tmp.File("r/probe.json")));
    }

    [Fact]
    public void Probe_NotAnEncoderCheckpoint_Exit2()
    {
        using var tmp = new TempDir();
        string path = tmp.File("other.safetensors");
        using (var lin = nn.Linear(2, 2)) Checkpoint.Save(path, lin, "classifier", "{}", 1);
        var (code, _, err) = Gen("probe", path);
        Assert.Equal(2, code);
        Assert.Contains("'representation'", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Probe_DifferentChannelCount_Exit2()
    {
        using var tmp = new TempDir();
        string run = Pretrained(tmp);
        string rgb = Synthetic.RgbFolder(tmp.File("rgb"));
        var (code, _, err) = Gen("probe", run, "--data", rgb, "--k", "4");
        Assert.Equal(2, code);
        Assert.Contains("3-channel", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Probe_KLargerThanTrainingSet_Exit2()
    {
        var (code, _, err) = Gen("probe", "--raw-pixels", "--data", TinyData.Path, "--k", "5000");
        Assert.Equal(2, code);
        Assert.Contains("--k", err);
    }

    [Fact]
    public void Pretrain_MocoQueueNotMultipleOfBatch_Exit2()
    {
        using var tmp = new TempDir();
        var (code, _, err) = Gen("pretrain", "--method", "mocov2", "--data", TinyData.Path, "--batch", "48", "--steps", "2", "--out", tmp.File("m"));
        Assert.Equal(2, code);
        Assert.Contains("--batch", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void Pretrain_HallucinatorWithRotNet_Exit2()
    {
        using var tmp = new TempDir();
        var (code, _, err) = Gen("pretrain", "--method", "rotnet", "--hallucinator", "--data", TinyData.Path, "--steps", "2", "--out", tmp.File("r"));
        Assert.Equal(2, code);
        Assert.Contains("--hallucinator", err);
    }

    [Fact]
    public void Pretrain_UnknownMethod_Exit2()
    {
        var (code, _, err) = Gen("pretrain", "--method", "byol");
        Assert.Equal(2, code);
        Assert.Contains("byol", err);
    }
}
