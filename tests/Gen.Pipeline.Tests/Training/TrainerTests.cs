using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Models;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Pipeline.Tests.Training;

public sealed class TrainerTests
{
    private static readonly ResNetConfig Tiny = new() { Widths = [4, 8, 8], Blocks = [1, 1, 1] };

    private static (ImageSet Train, ImageSet Test) Data(TempDir tmp)
    {
        string dir = Synthetic.IdxDataset(tmp.File("data"), train: 256, test: 64, classes: 4, size: 12);
        return (DatasetCatalog.Load(dir, Split.Train), DatasetCatalog.Load(dir, Split.Test));
    }

    private static TrainConfig Config(long steps) => new()
    {
        Steps = steps, Batch = 32, Lr = 0.05, Optimizer = OptimizerKind.Sgd, Momentum = 0.9, WeightDecay = 5e-4,
        WarmupSteps = 5, Seed = 3, EmaHalfLifeImages = 2000,
    };

    private static readonly RunOptions Run = new() { CheckpointEvery = 10, LogEvery = 5, Threads = 2 };

    private static TrainResult Train(ImageSet train, ImageSet test, TrainConfig c, string dir, bool resume = false,
                                     CancellationToken cancel = default, IProgress<TrainProgress>? progress = null,
                                     Func<ClassifierMethod, ITrainMethod>? wrap = null, RunOptions? run = null)
    {
        var config = ClassifierConfig.For(train, Tiny);
        using var method = new ClassifierMethod(config, new Generator((ulong)c.Seed));
        var model = new ClassifierModel(method.Network, config, "", 0, owns: false);
        var eval = new TrainHook("test_acc", c.EvalEvery, (_, _) => new Dictionary<string, double> { ["test_acc"] = ClassifierEval.Evaluate(model, test).Accuracy });
        var trainer = new Trainer(wrap?.Invoke(method) ?? method, train, c, run ?? Run, dir, progress, [eval]);
        return trainer.Run(resume, cancel);
    }

    private static Dictionary<string, byte[]> Weights(string path) =>
        SafeTensors.Read(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Data);

    [Fact]
    public void TinyClassifier_LossFalls_AndLearns()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var result = Train(train, test, Config(60), tmp.File("run"));
        var rows = MetricsLog.Read(Path.Combine(result.RunDir, Trainer.MetricsFile)).Where(r => r.ContainsKey("loss")).ToList();
        Assert.True(rows[^1]["loss"] < 0.5 * rows[0]["loss"], $"loss {rows[0]["loss"]} → {rows[^1]["loss"]}");
        Assert.True(result.FinalMetrics["test_acc"] > 0.8, $"test accuracy {result.FinalMetrics["test_acc"]}");
        Assert.True(File.Exists(Path.Combine(result.RunDir, "plots", "loss.png")));
        Assert.True(File.Exists(Path.Combine(result.RunDir, Trainer.SnapshotDir, "step-00000030.safetensors")));
        var (_, info) = Checkpoint.Open(result.LastCheckpoint, ClassifierMethod.KindName);
        Assert.Equal(60, info.Step);
    }

    [Fact]
    public void SameSeed_BitIdenticalWeights()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var a = Train(train, test, Config(15), tmp.File("a"));
        var b = Train(train, test, Config(15), tmp.File("b"));
        var wa = Weights(a.LastCheckpoint);
        var wb = Weights(b.LastCheckpoint);
        Assert.Equal(wa.Keys.Order(), wb.Keys.Order());
        foreach (var k in wa.Keys) Assert.True(wa[k].SequenceEqual(wb[k]), $"tensor {k} differs");
        var c = Train(train, test, Config(15) with { Seed = 4 }, tmp.File("c"));
        Assert.False(Weights(c.LastCheckpoint)["fc.weight"].SequenceEqual(wa["fc.weight"]));
    }

    [Fact]
    public void InterruptAndResume_EqualsUninterruptedRun()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var straight = Train(train, test, Config(30), tmp.File("straight"));

        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<TrainProgress>(p => { if (p.Step == 17) cts.Cancel(); });
        var first = Train(train, test, Config(30), tmp.File("resumed"), cancel: cts.Token, progress: progress);
        Assert.True(first.Interrupted);
        Assert.Equal(17, first.Step);
        var second = Train(train, test, Config(30), tmp.File("resumed"), resume: true);
        Assert.False(second.Interrupted);

        var wa = Weights(straight.LastCheckpoint);
        var wb = Weights(second.LastCheckpoint);
        foreach (var k in wa.Keys) Assert.True(wa[k].SequenceEqual(wb[k]), $"tensor {k} differs after resume");
        var la = MetricsLog.Read(Path.Combine(straight.RunDir, Trainer.MetricsFile)).Where(r => r.ContainsKey("loss")).Select(r => (r["step"], r["loss"]));
        var lb = MetricsLog.Read(Path.Combine(second.RunDir, Trainer.MetricsFile)).Where(r => r.ContainsKey("loss")).Select(r => (r["step"], r["loss"]));
        Assert.Equal(la, lb);
    }

    [Fact]
    public void NaNLoss_StopsWithClearError_AndCheckpointStaysLoadable()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var e = Assert.Throws<GenInputException>(() =>
            Train(train, test, Config(40), tmp.File("nan"), wrap: m => new NaNAfter(m, 23)));
        Assert.Contains("diverged", e.Message);
        Assert.Contains("step 24", e.Message);
        Assert.Contains("--lr", e.Message);
        var (_, info) = Checkpoint.Open(Path.Combine(tmp.File("nan"), Trainer.LastFile), ClassifierMethod.KindName);
        Assert.Equal(20, info.Step);
        var resumed = Train(train, test, Config(25), tmp.File("nan"), resume: true);   // healthy method continues
        Assert.Equal(25, resumed.Step);
    }

    [Fact]
    public void ExistingRun_WithoutResume_Refused_AndNothingIsLost()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var a = Train(train, test, Config(10), tmp.File("run"));
        byte[] before = File.ReadAllBytes(a.LastCheckpoint);
        var e = Assert.Throws<GenInputException>(() => Train(train, test, Config(10), tmp.File("run")));
        Assert.Contains("--resume", e.Message);
        Assert.Equal(before, File.ReadAllBytes(a.LastCheckpoint));
    }

    [Fact]
    public void ResumeWithoutState_Refused()
    {
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        var e = Assert.Throws<GenInputException>(() => Train(train, test, Config(10), tmp.File("empty"), resume: true));
        Assert.Contains("nothing to resume", e.Message);
    }

    [Fact]
    public void RunMemory_StaysFlat_OverManySteps()
    {
        // A cheap in-suite guard; the 2,000-step measurement lives in bench/classifier.
        using var tmp = new TempDir();
        var (train, test) = Data(tmp);
        Train(train, test, Config(200), tmp.File("mem"), run: Run with { LogEvery = 20, CheckpointEvery = 0 });
        var rss = MetricsLog.Read(Path.Combine(tmp.File("mem"), Trainer.MetricsFile)).Where(r => r.ContainsKey("rss_mb")).Select(r => r["rss_mb"]).ToList();
        double warm = rss[2], last = rss[^1];
        Assert.True(last < warm * 1.10 + 20, $"RSS grew from {warm:F0} MB to {last:F0} MB");
    }

    /// <summary>Wraps a method and returns a NaN loss from a given step on.</summary>
    private sealed class NaNAfter(ClassifierMethod inner, long step) : ITrainMethod
    {
        public string Kind => inner.Kind;
        public string ConfigJson => inner.ConfigJson;
        public nn.Module Model => inner.Model;
        public StepOutput Step(Batch batch, StepContext ctx)
        {
            var o = inner.Step(batch, ctx);
            return ctx.Step >= step ? o with { Loss = o.Loss * double.NaN } : o;
        }
        public void Dispose() { }
    }
}
