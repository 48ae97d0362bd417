using System.Text.Json;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Imaging;

namespace Gen.Cli.Tests;

/// <summary>gen detect build-dataset | eval, gen train detector, gen explain and the detector's ONNX export, end to end on tiny data.</summary>
public sealed class DetectCommandTests
{
    private const int Size = 12;

    /// <summary>n grey noise images; with <paramref name="mark"/> a bright 3×3 square at a seeded place (an easy "generator trace").</summary>
    private static void Images(string dir, int n, ulong seed, bool mark, int channels = 1)
    {
        Directory.CreateDirectory(dir);
        var rng = new Gen.Pipeline.Data.SplitMix(seed);
        for (int i = 0; i < n; i++)
        {
            var px = new byte[channels * Size * Size];
            for (int p = 0; p < px.Length; p++) px[p] = (byte)rng.NextBelow(60);
            if (mark)
            {
                int y0 = (int)rng.NextBelow(Size - 2), x0 = (int)rng.NextBelow(Size - 2);
                for (int c = 0; c < channels; c++)
                    for (int y = y0; y < y0 + 3; y++)
                        for (int x = x0; x < x0 + 3; x++) px[(c * Size + y) * Size + x] = 250;
            }
            ImageCodec.WritePng(Path.Combine(dir, $"{i:D4}.png"), px, channels, Size, Size);
        }
    }

    private static void Refused(CliResult r, string expect)
    {
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.Err}");
        string[] lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
        Assert.Single(lines);
        Assert.Contains(expect, lines[0]);
    }

    /// <summary>A dataset built from the toy real images and a folder of marked fakes, and a detector trained on it.</summary>
    private static (string Ds, string Det) Trained(TempDir tmp)
    {
        string real = ToyData.Write(tmp.File("toy"), train: 300, test: 100, size: Size);
        Images(tmp.File("fakes"), 300, 5, mark: true);
        var build = Cli.Run("detect", "build-dataset", "--real", real, "--fake", tmp.File("fakes"), "--n", "200", "--n-test", "60", "--out", tmp.File("ds"), "--json");
        Assert.True(build.ExitCode == 0, build.Err);
        var summary = JsonDocument.Parse(build.Out).RootElement;
        Assert.Equal(200, summary.GetProperty("counts").GetProperty("train").GetProperty("FAKE").GetInt32());
        var train = Cli.Run("train", "detector", "--data", tmp.File("ds"), "--epochs", "6", "--batch", "32", "--threads", "2", "--out", tmp.File("det"), "--json");
        Assert.True(train.ExitCode == 0, train.Err);
        Assert.True(File.Exists(tmp.File("det/best.safetensors")));
        return (tmp.File("ds"), tmp.File("det"));
    }

    [Fact]
    public void BuildTrainEvalExplainExport_EndToEnd()
    {
        using var tmp = new TempDir();
        var (ds, det) = Trained(tmp);

        var eval = Cli.Run("detect", "eval", det, ds, "--json");
        Assert.True(eval.ExitCode == 0, eval.Err);
        var e = JsonDocument.Parse(eval.Out).RootElement;
        Assert.Equal(120, e.GetProperty("count").GetInt32());
        Assert.EndsWith("best.safetensors", e.GetProperty("checkpoint").GetString());
        Assert.True(e.GetProperty("accuracy").GetDouble() > 0.9, eval.Out);
        var cm = e.GetProperty("confusion");
        Assert.Equal(120, cm.GetProperty("tp").GetInt32() + cm.GetProperty("fp").GetInt32() + cm.GetProperty("fn").GetInt32() + cm.GetProperty("tn").GetInt32());
        var perClass = e.GetProperty("real_per_class").EnumerateArray().ToList();
        Assert.Equal(60, perClass.Sum(x => x.GetProperty("count").GetInt32()));                 // every REAL test image, by its source class
        Assert.Equal(4, perClass.Count);
        double realAcc = perClass.Sum(x => x.GetProperty("count").GetInt32() * x.GetProperty("accuracy").GetDouble()) / 60;
        Assert.Equal(e.GetProperty("real_accuracy").GetDouble(), realAcc, 9);
        Assert.Empty(e.GetProperty("fake_per_class").EnumerateArray());                          // fakes from a folder carry no class
        Assert.Contains("confusion matrix", Cli.Run("detect", "eval", det, ds).Out);

        var explain = Cli.Run("explain", det, Path.Combine(ds, "test"), "--n", "6", "--out", tmp.File("ex"), "--json");
        Assert.True(explain.ExitCode == 0, explain.Err);
        var images = JsonDocument.Parse(explain.Out).RootElement.GetProperty("images");
        Assert.Equal(6, images.GetArrayLength());
        Assert.Equal(3, images.EnumerateArray().Count(i => i.GetProperty("truth").GetString() == "FAKE"));   // spread over both classes
        Assert.True(File.Exists(tmp.File("ex/grid.png")));
        Assert.True(File.Exists(tmp.File("ex/explain.json")));
        var strip = ImageCodec.Decode(Directory.GetFiles(tmp.File("ex"), "0000-*.png").Single());
        Assert.Equal((3, Size * 8, (3 * Size + 2) * 8), (strip.Channels, strip.Height, strip.Width));

        var export = Cli.Run("export", det, "--out", tmp.File("det.onnx"), "--json");
        Assert.True(export.ExitCode == 0, export.Err);
        var onnxEval = Cli.Run("detect", "eval", tmp.File("det.onnx"), ds, "--json");
        Assert.True(onnxEval.ExitCode == 0, onnxEval.Err);
        Assert.Equal(e.GetProperty("accuracy").GetDouble(), JsonDocument.Parse(onnxEval.Out).RootElement.GetProperty("accuracy").GetDouble(), 3);
    }

    [Fact]
    public void Explain_WorksForTheFoundationClassifier()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"));
        Assert.Equal(0, Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("run"), "--steps", "5" }, .. ClassifierCommandTests.Tiny]).ExitCode);
        var r = Cli.Run("explain", tmp.File("run"), data + ":test", "--n", "4", "--target", "2", "--out", tmp.File("ex"), "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        var root = JsonDocument.Parse(r.Out).RootElement;
        Assert.Equal("layer3", root.GetProperty("layer").GetString());
        Assert.All(root.GetProperty("images").EnumerateArray(), i => Assert.Equal("2", i.GetProperty("target").GetString()));
    }

    [Fact]
    public void BadInputs_OneLineErrors_ExitCode2()
    {
        using var tmp = new TempDir();
        var (ds, det) = Trained(tmp);
        string real = tmp.File("toy");
        Images(tmp.File("colour"), 300, 6, mark: true, channels: 3);
        Refused(Cli.Run("detect", "build-dataset", "--real", real, "--fake", tmp.File("colour"), "--n", "20", "--n-test", "5", "--out", tmp.File("ds2")), "3x12x12");
        Assert.False(Directory.Exists(tmp.File("ds2")));
        Refused(Cli.Run("detect", "build-dataset", "--real", real, "--fake", tmp.File("fakes"), "--n", "301", "--n-test", "5", "--out", tmp.File("ds2")), "--n");
        Refused(Cli.Run("detect", "build-dataset", "--real", real, "--fake", tmp.File("fakes"), "--n", "20", "--n-test", "5", "--out", ds), "already exists");
        Refused(Cli.Run("train", "detector", "--data", real, "--epochs", "1", "--out", tmp.File("d2")), "REAL and FAKE");
        Refused(Cli.Run("detect", "eval", det, real), "REAL and FAKE");

        SafeTensors.Write(tmp.File("edm.safetensors"), [], Checkpoint.Metadata("edm", "{}", 1));
        Refused(Cli.Run("explain", tmp.File("edm.safetensors"), Path.Combine(ds, "test"), "--out", tmp.File("ex")), "Grad-CAM");
        Images(tmp.File("big"), 1, 7, mark: false);
        ImageCodec.WritePng(tmp.File("big/wide.png"), new byte[20 * 30], 1, 20, 30);
        Refused(Cli.Run("explain", det, tmp.File("big/wide.png"), "--out", tmp.File("ex")), "30x20");
        File.WriteAllBytes(tmp.File("huge.png"), Gen.Testing.BrokenImages.PngDeclaring(60000, 60000));
        Refused(Cli.Run("explain", det, tmp.File("huge.png"), "--out", tmp.File("ex")), "60000x60000");
        Refused(Cli.Run("explain", det, Path.Combine(ds, "test"), "--target", "cat", "--out", tmp.File("ex")), "--target");
        Assert.Equal(0, Cli.Run("export", det, "--out", tmp.File("det.onnx")).ExitCode);
        Refused(Cli.Run("explain", tmp.File("det.onnx"), Path.Combine(ds, "test"), "--out", tmp.File("ex")), "ONNX");
        Assert.False(Directory.Exists(tmp.File("ex")));
    }
}
