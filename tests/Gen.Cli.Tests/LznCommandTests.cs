// gen train lzn and the capability verbs on its checkpoints (docs/methods/lzn.md): the same seed gives
// the same weights and the same sample bytes; classify is deterministic at prior-std 0 and says it is
// batch-relative; the baselines open as the parts they have; bad input is one line with exit code 2.
using Gen.Pipeline.Checkpoints;

namespace Gen.Cli.Tests;

public sealed class LznCommandTests
{
    private static readonly string[] Quick = ["--threads", "2", "--monitor-n", "32", "--monitor-samples", "0", "--log-every", "5", "--latent-dim", "8"];

    private static string Train(TempDir tmp, string data, string name, int seed = 0, string baseline = "none", int steps = 20)
    {
        var r = Cli.Run([.. new[] { "train", "lzn", "--data", data, "--out", tmp.File(name), "--steps", steps.ToString(), "--batch", "16",
                                    "--seed", seed.ToString(), "--baseline", baseline }, .. Quick]);
        Assert.True(r.ExitCode == 0, r.Err);
        if (baseline == "none") Assert.Contains("(rec ", r.Err);        // the progress line shows both losses
        if (baseline == "none") Assert.Contains(", label ", r.Err);
        return tmp.File(name);
    }

    [Fact]
    public void SameSeed_SameWeightsAndSampleBytes_Classify_Deterministic()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 256, test: 64);
        string a = Train(tmp, data, "a"), b = Train(tmp, data, "b");
        var sa = SafeTensors.Read(Path.Combine(a, "state.safetensors"));
        var sb = SafeTensors.Read(Path.Combine(b, "state.safetensors"));
        foreach (var (name, t) in sa.Tensors)
            if (name.StartsWith("model/", StringComparison.Ordinal))
                Assert.True(t.Data.SequenceEqual(sb.Tensors[name].Data), $"{name} differs between two runs with seed 0");
        var log = File.ReadAllLines(Path.Combine(a, "metrics.jsonl"));
        Assert.Contains(log, l => l.Contains("\"rec\"") && l.Contains("\"label\""));
        Assert.Contains(log, l => l.Contains("\"test_acc\""));

        foreach (var (run, grid) in new[] { (a, "ga.png"), (b, "gb.png") })
        {
            var s = Cli.Run("sample", run, "--n", "8", "--columns", "4", "--grid", tmp.File(grid), "--threads", "2");
            Assert.True(s.ExitCode == 0, s.Err);
        }
        Assert.Equal(File.ReadAllBytes(tmp.File("ga.png")), File.ReadAllBytes(tmp.File("gb.png")));
        var k = Cli.Run("sample", a, "--n", "4", "--class", "2", "--grid", tmp.File("gk.png"), "--threads", "2");
        Assert.True(k.ExitCode == 0, k.Err);
        Assert.NotEqual(File.ReadAllBytes(tmp.File("ga.png")), File.ReadAllBytes(tmp.File("gk.png")));

        var c1 = Cli.Run("classify", a, data + ":test", "--json", "--threads", "2");
        var c2 = Cli.Run("classify", a, data + ":test", "--json", "--threads", "2");
        Assert.True(c1.ExitCode == 0, c1.Err);
        Assert.Equal(c1.Out, c2.Out);
        Assert.Contains("batch-relative", c1.Out);
        Assert.Contains("chunk of 16", c1.Out);           // the training batch by default
        var c3 = Cli.Run("classify", a, data + ":test", "--json", "--prior-std", "1", "--batch", "32", "--threads", "2");
        Assert.True(c3.ExitCode == 0, c3.Err);
        Assert.Contains("chunk of 32", c3.Out);
        Assert.Contains("std 1", c3.Out);
        var ev = Cli.Run("eval", "classifier", a, "--data", data + ":test", "--threads", "2");
        Assert.True(ev.ExitCode == 0, ev.Err);
        Assert.Contains("batch-relative", ev.Out);
    }

    [Fact]
    public void Baselines_OpenAsTheirParts_BadInputRefusedInOneLine()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 128, test: 32);
        string clf = Train(tmp, data, "clf", baseline: "clf", steps: 3);
        string rf = Train(tmp, data, "rf", baseline: "rf", steps: 3);
        Assert.Equal("lzn-clf", Checkpoint.ReadInfo(Path.Combine(clf, "last.safetensors")).Kind);
        Assert.Equal("lzn-rf", Checkpoint.ReadInfo(Path.Combine(rf, "last.safetensors")).Kind);
        var ok = Cli.Run("classify", clf, data + ":test", "--threads", "2");
        Assert.True(ok.ExitCode == 0, ok.Err);
        ok = Cli.Run("sample", rf, "--n", "2", "--grid", tmp.File("rf.png"), "--threads", "2");
        Assert.True(ok.ExitCode == 0, ok.Err);

        static void Refused(CliResult r, string needle)
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(needle, r.Err);
            Assert.Single(r.Err.Trim().Split('\n'));
        }

        Refused(Cli.Run("sample", clf, "--n", "2"), "'lzn-clf'");
        Refused(Cli.Run("classify", rf, data + ":test"), "'lzn-rf'");
        Refused(Cli.Run("train", "lzn", "--data", data, "--latent-dim", "0", "--out", tmp.File("x")), "--latent-dim");
        Refused(Cli.Run("train", "lzn", "--data", data, "--batch", "2", "--steps", "2", "--out", tmp.File("x")), "--batch");
        Refused(Cli.Run("train", "lzn", "--data", data, "--baseline", "vae", "--out", tmp.File("x")), "--baseline");
        Assert.False(Directory.Exists(tmp.File("x")) && Directory.EnumerateFileSystemEntries(tmp.File("x")).Any());

        // A folder of unlabelled images.
        string flat = tmp.File("flat");
        Directory.CreateDirectory(flat);
        var toy = Gen.Pipeline.Data.DatasetCatalog.Load(data, Gen.Pipeline.Data.Split.Train);
        for (int i = 0; i < 20; i++)
            Gen.Pipeline.Imaging.ImageCodec.WritePng(Path.Combine(flat, $"{i:D3}.png"), toy.Image(i), toy.Channels, toy.Height, toy.Width);
        Refused(Cli.Run("train", "lzn", "--data", flat, "--steps", "2", "--out", tmp.File("y")), "labels");

        Refused(Cli.Run("classify", clf, data + ":test", "--prior-std", "1"), "--prior-std");   // clf is not batch-relative
        string joint = Train(tmp, data, "joint", steps: 2);
        Refused(Cli.Run("classify", joint, data + ":test", "--prior-std", "-1"), "--prior-std");
        Refused(Cli.Run("sample", joint, "--class", "7", "--n", "2"), "--class");

        var cls = Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("cls"), "--steps", "2" }, .. ClassifierCommandTests.Tiny]);
        Assert.True(cls.ExitCode == 0, cls.Err);
        Refused(Cli.Run("classify", tmp.File("cls"), data + ":test", "--prior-std", "0"), "--prior-std");
        Refused(Cli.Run("sample", tmp.File("cls"), "--n", "2"), "'classifier'");
    }
}
