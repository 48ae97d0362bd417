using System.Text.Json;
using Gen.Pipeline.Checkpoints;

namespace Gen.Cli.Tests;

public sealed class ClassifierCommandTests
{
    internal static readonly string[] Tiny = ["--width", "4", "--blocks", "1,1,1", "--batch", "32", "--threads", "2", "--log-every", "5", "--warmup", "5", "--lr", "0.05"];

    [Fact]
    public void TrainThenEval_EndToEnd()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        var train = Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "60", "--checkpoint-every", "20", "--json" }, .. Tiny]);
        Assert.True(train.ExitCode == 0, train.Err);
        using var doc = JsonDocument.Parse(train.Out);
        Assert.Equal(60, doc.RootElement.GetProperty("step").GetInt64());
        double trainAcc = doc.RootElement.GetProperty("metrics").GetProperty("test_acc").GetDouble();
        Assert.True(trainAcc > 0.9, $"test accuracy {trainAcc}");
        foreach (string f in new[] { "last.safetensors", "state.safetensors", "config.json", "metrics.jsonl", "stage.json", "plots/loss.png", "checkpoints/step-00000040.safetensors" })
            Assert.True(File.Exists(Path.Combine(tmp.File("run"), f)), f);

        var eval = Cli.Run("eval", "classifier", tmp.File("run"), "--json", "--grid", tmp.File("pred.png"), "--n", "16");
        Assert.True(eval.ExitCode == 0, eval.Err);
        using var e = JsonDocument.Parse(eval.Out);
        Assert.Equal(trainAcc, e.RootElement.GetProperty("accuracy").GetDouble(), 10);
        Assert.Equal(128, e.RootElement.GetProperty("count").GetInt32());
        var confusion = e.RootElement.GetProperty("confusion");
        Assert.Equal(128, confusion.EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(v => v.GetInt32()));
        Assert.True(File.Exists(tmp.File("pred.png")));

        var table = Cli.Run("eval", "classifier", Path.Combine(tmp.File("run"), "last.safetensors"));
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("confusion matrix", table.Out);
    }

    [Fact]
    public void Eval_WrongKindCheckpoint_ExitTwo()
    {
        using var tmp = new TempDir();
        SafeTensors.Write(tmp.File("edm.safetensors"), [], Checkpoint.Metadata("edm", "{}", 1));
        var r = Cli.Run("eval", "classifier", tmp.File("edm.safetensors"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("'edm'", r.Err);
    }

    [Fact]
    public void Eval_TruncatedCheckpoint_ExitTwo()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        Assert.Equal(0, Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "5" }, .. Tiny]).ExitCode);
        byte[] full = File.ReadAllBytes(tmp.File("run/last.safetensors"));
        File.WriteAllBytes(tmp.File("cut.safetensors"), full[..(full.Length - 100)]);
        var r = Cli.Run("eval", "classifier", tmp.File("cut.safetensors"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("truncated", r.Err);
    }

    [Fact]
    public void Eval_OnDataWithOtherChannels_ExitTwo()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        Assert.Equal(0, Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "5" }, .. Tiny]).ExitCode);
        Directory.CreateDirectory(tmp.File("rgb/a"));
        File.WriteAllBytes(tmp.File("rgb/a/x.png"), Gen.Pipeline.Imaging.ImageCodec.EncodePng(new byte[3 * 12 * 12], 3, 12, 12));
        var r = Cli.Run("eval", "classifier", tmp.File("run"), "--data", tmp.File("rgb"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("3-channel", r.Err);
    }

    [Fact]
    public void ExistingRun_WithoutResume_ExitTwo_FilesUntouched()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        Assert.Equal(0, Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "5" }, .. Tiny]).ExitCode);
        byte[] before = File.ReadAllBytes(tmp.File("run/last.safetensors"));
        var r = Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "5" }, .. Tiny]);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--resume", r.Err);
        Assert.Equal(before, File.ReadAllBytes(tmp.File("run/last.safetensors")));
    }

    [Fact]
    public void DryRun_PrintsResolvedOptions()
    {
        var r = Cli.Run("train", "classifier", "--dry-run", "--steps", "7", "--lr", "0.3");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Out);
        var train = doc.RootElement.GetProperty("parameters").GetProperty("train");
        Assert.Equal(7, train.GetProperty("steps").GetInt64());
        Assert.Equal(0.3, train.GetProperty("lr").GetDouble());
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("adamw")]
    [InlineData("Adam")]
    public void OptimizerNames_CaseInsensitive(string name)
    {
        var r = Cli.Run("train", "classifier", "--dry-run", "--optimizer", name);
        Assert.True(r.ExitCode == 0, r.Err);
    }
}
