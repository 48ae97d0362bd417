// gen train jem, gen sample/classify of a jem run, and gen robust (docs/methods/jem-at.md §1, §5):
// determinism of stage 2 and of its samples, the robustness table against a baseline, the energy in
// gen classify, and every bad-input case as a one-line error with exit code 2.
using System.Text.Json;
using Gen.Pipeline.Checkpoints;

namespace Gen.Cli.Tests;

public sealed class JemCommandTests
{
    private static readonly string[] Quick = ["--threads", "2", "--monitor-n", "32", "--log-every", "5"];

    private static string TrainPlain(TempDir tmp, string data, string name = "plain", int steps = 30)
    {
        var r = Cli.Run([.. new[] { "train", "jem", "--stage", "plain", "--data", data, "--out", tmp.File(name), "--steps", steps.ToString(), "--batch", "32" }, .. Quick]);
        Assert.True(r.ExitCode == 0, r.Err);
        return tmp.File(name);
    }

    private static CliResult TrainStage2(TempDir tmp, string data, string init, string name, int seed) =>
        Cli.Run([.. new[] { "train", "jem", "--stage", "2", "--data", data, "--init", init, "--out", tmp.File(name), "--steps", "20", "--batch", "16", "--seed", seed.ToString() }, .. Quick]);

    [Fact]
    public void Stage2_SameSeedSameWeightsAndSampleBytes_OtherSeedDiffers()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 256, test: 64);
        string plain = TrainPlain(tmp, data);
        foreach (var (name, seed) in new[] { ("a", 0), ("b", 0), ("c", 1) })
        {
            var r = TrainStage2(tmp, data, plain, name, seed);
            Assert.True(r.ExitCode == 0, r.Err);
        }
        var a = SafeTensors.Read(tmp.File("a/state.safetensors"));
        var b = SafeTensors.Read(tmp.File("b/state.safetensors"));
        foreach (var (name, t) in a.Tensors)
            if (name.StartsWith("model/", StringComparison.Ordinal))
                Assert.True(t.Data.SequenceEqual(b.Tensors[name].Data), $"{name} differs between two runs with seed 0");
        var c = SafeTensors.Read(tmp.File("c/state.safetensors"));
        Assert.Contains(a.Tensors, kv => kv.Key.StartsWith("model/") && !kv.Value.Data.SequenceEqual(c.Tensors[kv.Key].Data));

        foreach (string run in new[] { "a", "b", "c" })
        {
            var s = Cli.Run("sample", tmp.File(run), "--n", "6", "--steps", "10", "--out", tmp.File($"img-{run}"), "--threads", "2");
            Assert.True(s.ExitCode == 0, s.Err);
        }
        string[] files = Directory.GetFiles(tmp.File("img-a")).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(6, files.Length);
        Assert.All(files, f => Assert.Equal(File.ReadAllBytes(tmp.File($"img-a/{f}")), File.ReadAllBytes(tmp.File($"img-b/{f}"))));
        Assert.Contains(files, f => !File.ReadAllBytes(tmp.File($"img-a/{f}")).SequenceEqual(File.ReadAllBytes(tmp.File($"img-c/{f}"))));

        // The curriculum state travels with the checkpoint; the monitor logged clean and PGD accuracy.
        var rows = File.ReadAllLines(tmp.File("a/metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(rows, r => r.TryGetProperty("auc", out _) && r.TryGetProperty("t", out _) && r.TryGetProperty("bce", out _));
        Assert.Contains(rows, r => r.TryGetProperty("test_pgd_acc", out _));
        using var config = JsonDocument.Parse(File.ReadAllText(tmp.File("a/config.json")));
        Assert.True(config.RootElement.TryGetProperty("warm_start", out _));
    }

    [Fact]
    public void Stage2_InterruptAndResume_EqualsStraightRun_CurriculumIncluded()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 256, test: 64);
        string plain = TrainPlain(tmp, data);
        var stage = (Gen.Pipeline.Stages.TrainStage)GenCli.Registry().Stage("train-jem")!;
        var given = new System.Text.Json.Nodes.JsonObject
        {
            ["data"] = data, ["stage"] = "2", ["steps"] = 12, ["batch"] = 16, ["threads"] = 2, ["monitor_n"] = 16,
            ["auc_window"] = 2, ["t_max"] = 3, ["checkpoint_every"] = 100, ["log_every"] = 3,
        };
        var request = stage.Bind(given, "test") with { Init = plain };
        var straight = stage.Train(request, tmp.File("straight"), resume: false);
        using var cts = new CancellationTokenSource();
        var progress = new Gen.Pipeline.SyncProgress<Gen.Pipeline.Training.TrainProgress>(p => { if (p.Step == 7) cts.Cancel(); });
        var first = stage.Train(request, tmp.File("resumed"), resume: false, progress: progress, cancel: cts.Token);
        Assert.True(first.Interrupted);
        var second = stage.Train(request, tmp.File("resumed"), resume: true);
        Assert.Equal(12, second.Step);
        var a = SafeTensors.Read(straight.LastCheckpoint);
        var b = SafeTensors.Read(second.LastCheckpoint);
        Assert.Contains(a.Tensors.Keys, k => k.Contains("curriculum"));
        foreach (var (name, t) in a.Tensors) Assert.True(t.Data.SequenceEqual(b.Tensors[name].Data), $"{name} differs after resume");
        Assert.True(BitConverter.ToInt64(a.Tensors.First(kv => kv.Key.EndsWith("curriculum.t")).Value.Data) > 0, "T never grew");
    }

    [Fact]
    public void Robust_TableAgainstBaseline_RobustNeverAboveClean_ClassifyPrintsEnergy()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 256, test: 64);
        string plain = TrainPlain(tmp, data, "plain", 40);
        string early = Path.Combine(plain, "checkpoints", "step-00000025.safetensors");
        var r = Cli.Run("robust", plain, "--baseline", early, "--attacks", "l2:0.5,linf:0.1", "--n", "48", "--steps", "5", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using var doc = JsonDocument.Parse(r.Out);
        var models = doc.RootElement.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(2, models.Count);
        foreach (var m in models)
        {
            Assert.Equal(48, m.GetProperty("count").GetInt32());
            double clean = m.GetProperty("clean_accuracy").GetDouble();
            var attacks = m.GetProperty("attacks").EnumerateArray().ToList();
            Assert.Equal(["l2", "linf"], attacks.Select(a => a.GetProperty("threat").GetString()));
            Assert.All(attacks, a => Assert.True(a.GetProperty("accuracy").GetDouble() <= clean));
            Assert.Equal(2.5 * 0.5 / 5, attacks[0].GetProperty("step_size").GetDouble(), 12);
        }
        var table = Cli.Run("robust", plain, "--baseline", early, "--eps", "0.25,0.5", "--n", "32", "--steps", "3");
        Assert.True(table.ExitCode == 0, table.Err);
        Assert.Contains("L2 ε = 0.25", table.Out);
        Assert.Contains("difference", table.Out);

        var cls = Cli.Run("classify", plain, Path.Combine(data, ""), "--n", "5", "--json");
        Assert.True(cls.ExitCode == 0, cls.Err);
        using var c = JsonDocument.Parse(cls.Out);
        foreach (var img in c.RootElement.GetProperty("images").EnumerateArray())
        {
            double e = img.GetProperty("energy").GetDouble(), p = img.GetProperty("probability").GetDouble();
            Assert.True(double.IsFinite(e));
            Assert.InRange(p, 0, 1);
        }
    }

    [Fact]
    public void BadInput_OneLine_ExitTwo()
    {
        using var tmp = new TempDir();
        string data = ToyData.Write(tmp.File("toy"), train: 128, test: 32);
        string data16 = ToyData.Write(tmp.File("toy16"), train: 128, test: 32, size: 16);

        void Refused(CliResult r, string needle)
        {
            Assert.Equal(2, r.ExitCode);
            Assert.Contains(needle, r.Err);
            Assert.Single(r.Err.Trim().Split('\n'));
        }

        Refused(Cli.Run("train", "jem", "--stage", "2", "--data", data, "--out", tmp.File("x"), "--steps", "2"), "--init");
        Refused(Cli.Run("train", "jem", "--stage", "3", "--data", data, "--out", tmp.File("x")), "--stage");
        Refused(Cli.Run("train", "jem", "--threat", "l3", "--data", data, "--out", tmp.File("x")), "l2 or linf");
        Refused(Cli.Run("train", "jem", "--attack-eps", "0", "--data", data, "--out", tmp.File("x")), "--attack-eps");
        Assert.False(Directory.Exists(tmp.File("x")) && Directory.EnumerateFileSystemEntries(tmp.File("x")).Any());

        var cls = Cli.Run([.. new[] { "train", "classifier", "--data", data, "--out", tmp.File("cls"), "--steps", "2" }, .. ClassifierCommandTests.Tiny]);
        Assert.True(cls.ExitCode == 0, cls.Err);
        Refused(Cli.Run("train", "jem", "--stage", "2", "--data", data, "--init", tmp.File("cls"), "--out", tmp.File("y"), "--steps", "2"), "'classifier'");
        string other = TrainPlain(tmp, data16, "plain16", 2);
        Refused(Cli.Run("train", "jem", "--stage", "2", "--data", data, "--init", other, "--out", tmp.File("z"), "--steps", "2"), "same --arch and data");

        SafeTensors.Write(tmp.File("edm.safetensors"), [], Checkpoint.Metadata("edm", "{}", 1));
        Refused(Cli.Run("robust", tmp.File("edm.safetensors")), "'edm'");
        Refused(Cli.Run("robust", tmp.File("cls"), "--eps", "0"), "--eps");
        Refused(Cli.Run("robust", tmp.File("cls"), "--threat", "l1"), "l2 or linf");
        Refused(Cli.Run("robust", tmp.File("cls"), "--attacks", "l2"), "--attacks");
        Refused(Cli.Run("sample", other, "--class", "9", "--n", "2"), "--class");
    }
}
