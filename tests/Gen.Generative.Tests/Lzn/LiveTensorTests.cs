// Native tensors stay owned: a training run whose hook samples and evaluates between steps (as the lzn
// monitor does) leaves the number of live TorchSharp tensors unchanged from one hook to the next. Hooks
// run outside the step's dispose scope, so any tensor they or the loop's weight swap create there
// would otherwise wait for the .NET finaliser.
using Gen.Generative.Lzn;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Generative.Tests.Lzn;

public sealed class LiveTensorTests
{
    [Theory]
    [InlineData(LznConfig.Rf)]
    [InlineData(LznConfig.Joint)]
    [InlineData(LznConfig.Clf)]
    public void TrainingWithMonitorHooks_LiveTensorCountStaysFlat(string variant)
    {
        using var tmp = new TempDir();
        ImageSet data = TinyData.Squares(64, 16, classes: 4);
        using var init = new Generator(0);
        using var method = new LznMethod(LznStepTests.Small(variant), init, 1000, 0.2, 0);
        var stats = DisposeScopeManager.Statistics;
        var live = new List<long>();
        var hook = new TrainHook("monitor", 10, (_, step) =>
        {
            var model = new LznModel(method.Network, method.Config, "", step, owns: false) { ClassifyBatch = 8 };
            if (method.Config.HasDecoder) model.Sample([1, 2, 3], [0, 1, 2]);
            if (method.Config.HasEncoder) ClassifierEval.Evaluate(model, data.Take(16));   // the monitor's accuracy loop
            live.Add(stats.ThreadTotalLiveCount);
            return new Dictionary<string, double>();
        });
        var cfg = new TrainConfig { Steps = 40, Batch = 16, Lr = 1e-3, Optimizer = OptimizerKind.Adam, ClipGradNorm = 1 };
        new Trainer(method, data, cfg, new RunOptions { CheckpointEvery = 0, LogEvery = 10 }, tmp.File("run"), hooks: [hook]).Run(false);
        Assert.True(live.Count >= 3, $"{live.Count} hook calls");
        Assert.True(live.Skip(1).All(n => n == live[1]), $"live tensors after each hook: {string.Join(", ", live)}");
    }
}
