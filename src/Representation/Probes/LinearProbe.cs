// Linear probe of frozen features, the "fast" protocol of docs/methods/representation.md §5.1 (D-6):
// features of the un-augmented train and test images are computed once, z-scored with train
// statistics, and a multinomial logistic regression is fitted with SGD (momentum 0.9, lr 0.1, batch
// 256, cosine, 30 epochs on CPU, wd 0). The fit is a run of the one training loop (Trainer) over the
// cached feature matrix (TensorBatchSource): the loop's data order, schedule, optimizer, metrics log and
// checkpoint are the same as for every other method, and the fitted head is kept as a checkpoint.
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Gen.Representation.Probes;

public sealed record LinearProbeOptions
{
    public int Epochs { get; init; } = 30;          // §5: 30 on CPU, 100 on GPU
    public double Lr { get; init; } = 0.1;
    public int Batch { get; init; } = 256;
    public double Momentum { get; init; } = 0.9;
    public double WeightDecay { get; init; } = 0;
    public long Seed { get; init; } = 0;

    public void Validate()
    {
        if (Epochs <= 0) throw new GenInputException($"--linear-epochs must be positive, got {Epochs}");
        if (!(Lr > 0)) throw new GenInputException($"--linear-lr must be positive, got {Lr}");
        if (Batch <= 0) throw new GenInputException($"--linear-batch must be positive, got {Batch}");
        if (WeightDecay < 0) throw new GenInputException($"--linear-wd must be zero or positive, got {WeightDecay}");
    }
}

public sealed record LinearProbeResult(double Top1, double Top5, double TrainTop1, string Protocol, int Epochs, long Steps);

public static class LinearProbe
{
    public const string Kind = "linear-probe";

    /// <summary>Fits the probe; the Trainer's run (metrics, the head's checkpoint) goes to
    /// <paramref name="runDir"/>, which is replaced, or to a temporary folder that is removed when null.</summary>
    public static LinearProbeResult Fit(Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, int classes,
                                        LinearProbeOptions o, CancellationToken cancel = default, string? runDir = null)
    {
        o.Validate();
        long n = trainX.shape[0], d = trainX.shape[1];
        using var stats = NewDisposeScope();
        Tensor mean, std;
        using (no_grad())
        {
            mean = trainX.mean([0], keepdim: true);
            std = trainX.std(0, keepdim: true);
            std = where(std.gt(1e-6), std, ones_like(std));   // constant dims (e.g. border pixels) stay unscaled
        }
        Tensor xs = (trainX - mean) / std, xt = (testX - mean) / std;

        var cfg = new TrainConfig
        {
            Optimizer = OptimizerKind.Sgd, Lr = o.Lr, Momentum = o.Momentum, Nesterov = false, WeightDecay = o.WeightDecay,
            Schedule = LrScheduleKind.Cosine, Batch = (int)Math.Min(o.Batch, n), Epochs = o.Epochs, Seed = o.Seed,
        };
        bool temporary = runDir is null;
        string dir = runDir ?? Path.Combine(Path.GetTempPath(), $"gen-linear-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);   // a derived result: always refitted from the features
        try
        {
            using var method = new LinearProbeMethod(d, classes);
            var trainer = new Trainer(method, new TensorBatchSource(xs, trainY, "frozen features"), cfg,
                                      new RunOptions { CheckpointEvery = 0, LogEvery = 50 }, dir);
            TrainResult run = trainer.Run(resume: false, cancel);
            if (run.Interrupted) throw new OperationCanceledException(cancel);
            using var noGrad = no_grad();
            method.Model.eval();
            var (top1, top5) = Knn.TopK(Logits(method.Head, xt), testY);
            var (trainTop1, _) = Knn.TopK(Logits(method.Head, xs), trainY);
            return new LinearProbeResult(top1, top5, trainTop1, "fast", o.Epochs, run.Step);
        }
        finally
        {
            if (temporary && Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static Tensor Logits(Linear linear, Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long s = 0; s < x.shape[0]; s += 10000) parts.Add(linear.call(x.narrow(0, s, Math.Min(10000, x.shape[0] - s))));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}

/// <summary>Multinomial logistic regression on feature rows: one linear layer, cross-entropy.</summary>
internal sealed class LinearProbeMethod : ITrainMethod
{
    private readonly Linear _head;
    private readonly long _dim;
    private readonly int _classes;

    public LinearProbeMethod(long dim, int classes)
    {
        _dim = dim;
        _classes = classes;
        _head = nn.Linear(dim, classes);
        using (no_grad()) { _head.weight!.zero_(); _head.bias!.zero_(); }   // a convex problem: the zero start is deterministic
    }

    public Linear Head => _head;
    public string Kind => LinearProbe.Kind;
    public string ConfigJson => $"{{\"features\":{_dim},\"classes\":{_classes}}}";
    public nn.Module Model => _head;

    public StepOutput Step(Batch batch, StepContext ctx) =>
        new(nn.functional.cross_entropy(_head.call(batch.Images), batch.Labels));

    public void Dispose() => _head.Dispose();
}
