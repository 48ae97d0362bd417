using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;
using Gen.Representation.Probes;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Representation.Tests;

public sealed class PretrainTests
{
    private static TrainConfig Train(long steps, long seed = 0) => Recipes.Train(PretrainMethodKind.Simclr, EncoderArch.Resnet10s, 16) with
    {
        Steps = steps, Epochs = 0, Batch = 16, Seed = seed, Threads = 1, LogEvery = 2, CheckpointEvery = 3,
    };

    private static PretrainParams Params(PretrainMethodKind method, long steps, bool hal = false, long seed = 0) => new()
    {
        Method = method, Data = TinyData.Path, Hallucinator = hal, Queue = method == PretrainMethodKind.Mocov2 ? 64 : null,
        Train = Train(steps, seed) with { Lr = 0.05 }, KnnEvery = 0, KnnK = 20,
    };

    private static TrainResult Run(PretrainParams p, string dir, CancellationToken cancel = default) =>
        new PretrainStage().Run(p, new StageContext { OutputDir = dir, Cancel = cancel });

    private static List<double> Losses(string dir) =>
        MetricsLog.Read(Path.Combine(dir, Trainer.MetricsFile)).Where(r => r.ContainsKey("loss")).Select(r => r["loss"]).ToList();

    private static Dictionary<string, byte[]> Weights(string path) =>
        SafeTensors.Read(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Data);

    [Theory]
    [InlineData(PretrainMethodKind.Simclr, false)]
    [InlineData(PretrainMethodKind.Simclr, true)]
    [InlineData(PretrainMethodKind.Mocov2, false)]
    [InlineData(PretrainMethodKind.Mocov2, true)]
    [InlineData(PretrainMethodKind.Simsiam, false)]
    [InlineData(PretrainMethodKind.Simsiam, true)]
    [InlineData(PretrainMethodKind.Rotnet, false)]
    [InlineData(PretrainMethodKind.Supervised, false)]
    public void Method_TrainsThroughTrainer_WithFiniteLoss_AndKnnMonitor(PretrainMethodKind method, bool hal)
    {
        using var tmp = new TempDir();
        var p = Params(method, 4, hal) with { KnnEvery = 0 };
        var result = Run(p, tmp.File("run"));
        Assert.Equal(4, result.Step);
        Assert.All(Losses(result.RunDir), l => Assert.True(double.IsFinite(l)));
        Assert.InRange(result.FinalMetrics["knn_top1"], 0, 1);
        var (file, info) = Checkpoint.Open(result.LastCheckpoint, PretrainMethod.KindName);
        Assert.Equal(method.ToString().ToLowerInvariant(), info.Metadata["gen.method"]);
        Assert.Equal(hal, file.Tensors.Keys.Any(k => k.StartsWith("hallucinator.", StringComparison.Ordinal)));
        if (method == PretrainMethodKind.Mocov2) Assert.Contains("queue", file.Tensors.Keys);
    }

    [Fact]
    public void Resnet18Recipe_SimclrWithLarsOnRgb_Runs()
    {
        using var tmp = new TempDir();
        string rgb = Synthetic.RgbFolder(tmp.File("rgb"), perClass: 4, classes: 2);
        var p = new PretrainParams
        {
            Method = PretrainMethodKind.Simclr, Data = rgb, Encoder = EncoderArch.Resnet18, KnnEvery = 0, KnnK = 4,
            Train = Recipes.Train(PretrainMethodKind.Simclr, EncoderArch.Resnet18, 8) with { Steps = 2, Epochs = 0, Threads = 1 },
            WarmupEpochs = Recipes.WarmupEpochs(PretrainMethodKind.Simclr, EncoderArch.Resnet18),
        };
        Assert.Equal(OptimizerKind.Lars, p.Train.Optimizer);
        var result = Run(p, tmp.File("run"));
        Assert.All(Losses(result.RunDir), l => Assert.True(double.IsFinite(l)));
        var cfg = Gen.Pipeline.Json.Deserialize<PretrainConfig>(Checkpoint.Open(result.LastCheckpoint).Info.ConfigJson, "config");
        Assert.Equal(3, cfg.Encoder.InChannels);
        Assert.Equal(ViewConfig.Strong, cfg.Views);
    }

    [Fact]
    public void Nin4RotNet_Runs_AndProbesBlock2ByDefault()
    {
        using var tmp = new TempDir();
        var p = Params(PretrainMethodKind.Rotnet, 2) with { Encoder = EncoderArch.Nin4 };
        var result = Run(p, tmp.File("run"));
        var res = new ProbeStage().Run(new ProbeParams { Checkpoint = result.RunDir, K = 20, Linear = false },
                                       new StageContext { OutputDir = "." });
        Assert.Equal("block2", res.Layer);
        Assert.Equal(192 * 3 * 3, res.FeatureDim);   // 12 px → 6 → 3 after the two pools
    }

    [Fact]
    public void SameSeed_IdenticalLossesAndCheckpoint_OtherSeedDiffers()
    {
        using var tmp = new TempDir();
        var a = Run(Params(PretrainMethodKind.Simclr, 6, hal: true), tmp.File("a"));
        var b = Run(Params(PretrainMethodKind.Simclr, 6, hal: true), tmp.File("b"));
        Assert.Equal(Losses(a.RunDir), Losses(b.RunDir));
        var wa = Weights(a.LastCheckpoint);
        var wb = Weights(b.LastCheckpoint);
        Assert.All(wa.Keys, k => Assert.True(wa[k].SequenceEqual(wb[k]), k));
        var c = Run(Params(PretrainMethodKind.Simclr, 6, hal: true, seed: 1), tmp.File("c"));
        Assert.NotEqual(Losses(a.RunDir), Losses(c.RunDir));
    }

    [Fact]
    public void InterruptedMocoRun_ResumesToTheSameWeightsAndQueue()
    {
        using var tmp = new TempDir();
        var straight = Run(Params(PretrainMethodKind.Mocov2, 8), tmp.File("straight"));
        using var cts = new CancellationTokenSource();
        var stage = new PretrainStage(new SyncProgress(p => { if (p.Step == 5) cts.Cancel(); }));
        var first = stage.Run(Params(PretrainMethodKind.Mocov2, 8), new StageContext { OutputDir = tmp.File("resumed"), Cancel = cts.Token });
        Assert.True(first.Interrupted);
        var second = Run(Params(PretrainMethodKind.Mocov2, 8) with { Resume = true }, tmp.File("resumed"));
        Assert.False(second.Interrupted);
        var ws = Weights(straight.LastCheckpoint);
        var wr = Weights(second.LastCheckpoint);
        Assert.All(ws.Keys, k => Assert.True(ws[k].SequenceEqual(wr[k]), k));
    }

    [Fact]
    public void HallucinatorArm_SharesInitOrderAndViewsWithBaseline()
    {
        var cfg = PretrainConfig.For(PretrainMethodKind.Simclr, EncoderArch.Resnet10s, TinyData.Train);
        using var plain = PretrainMethod.Create(cfg, 3);
        using var hal = PretrainMethod.Create(cfg with { Hallucinator = new HallucinatorConfig { Enabled = true } }, 3);
        var sp = plain.Net.state_dict();
        foreach (var (name, t) in hal.Net.state_dict().Where(kv => !kv.Key.StartsWith("hallucinator.", StringComparison.Ordinal)))
            Assert.True(t.Same(sp[name]), name);
        Assert.NotNull(hal.Hallucinator);
    }

    [Fact]
    public void SimSiam_PredictorKeepsAConstantLearningRate()
    {
        var cfg = PretrainConfig.For(PretrainMethodKind.Simsiam, EncoderArch.Resnet10s, TinyData.Train);
        using var m = PretrainMethod.Create(cfg, 0);
        var groups = m.ParamGroups();
        Assert.True(groups.Single(g => g.Name == "predictor").FixedLr);
        Assert.All(groups.Single(g => g.Name == "predictor").Params, p => Assert.StartsWith("predictor.", p.Name));
        Assert.False(groups.Single(g => g.Name != "predictor").FixedLr);
    }

    [Fact]
    public void ProbeStage_LoadsEncoderOnly_AndWritesProbeJson()
    {
        using var tmp = new TempDir();
        var run = Run(Params(PretrainMethodKind.Simclr, 4), tmp.File("run"));
        var res = new ProbeStage().Run(new ProbeParams
        {
            Checkpoint = run.RunDir, K = 20, LinearOptions = new LinearProbeOptions { Epochs = 2 },
        }, new StageContext { OutputDir = "." });
        Assert.Equal("simclr", res.Method);
        Assert.Equal("pool", res.Layer);
        Assert.Equal(128, res.FeatureDim);
        Assert.True(File.Exists(Path.Combine(run.RunDir, ProbeStage.FileName)));
        Assert.InRange(res.Linear!.Top1, 0, 1);
        Assert.Equal(20, res.Knn!.K);
    }

    private sealed class SyncProgress(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
