// Linear probe of frozen features, the "fast" protocol of docs/methods/representation.md §5.1 (D-6):
// features of the un-augmented train and test images are computed once, z-scored with train
// statistics, and a multinomial logistic regression is fitted with SGD (momentum 0.9, lr 0.1, batch
// 256, cosine, 30 epochs on CPU, wd 0). The fit reuses the foundation's Optimizer, LrSchedule and
// BatchOrder (no separate optimizer code); it is a fit on a cached feature matrix, like scikit-learn's
// LogisticRegression, so it runs its own small loop over feature batches rather than the image Trainer.
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
    public static LinearProbeResult Fit(Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, int classes,
                                        LinearProbeOptions o, CancellationToken cancel = default)
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

        using var linear = nn.Linear(d, classes);
        using (no_grad()) { linear.weight!.zero_(); linear.bias!.zero_(); }   // convex problem: zero start is deterministic
        var cfg = new TrainConfig
        {
            Optimizer = OptimizerKind.Sgd, Lr = o.Lr, Momentum = o.Momentum, Nesterov = false, WeightDecay = o.WeightDecay,
            Schedule = LrScheduleKind.Cosine, Batch = o.Batch, Epochs = o.Epochs, Seed = o.Seed,
        };
        int batch = (int)Math.Min(o.Batch, n);
        var order = new BatchOrder(o.Seed, (int)n, batch);
        long total = (long)o.Epochs * order.BatchesPerEpoch;
        using var opt = new Optimizer(cfg, [new ParamGroupSpec("linear", linear.named_parameters().Select(p => (p.name, p.parameter)).ToList())]);
        for (long step = 0; step < total; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var guard = NativeCallGuard.Enter();
            using var scope = NewDisposeScope();
            Tensor idx = tensor(order.Indices(step).Select(i => (long)i).ToArray(), ScalarType.Int64);
            Tensor logits = linear.call(xs.index_select(0, idx));
            Tensor loss = nn.functional.cross_entropy(logits, trainY.index_select(0, idx));
            opt.ZeroGrad();
            loss.backward();
            opt.Step(LrSchedule.At(cfg, step, total));
        }
        using var noGrad = no_grad();
        var (top1, top5) = Knn.TopK(Logits(linear, xt), testY);
        var (trainTop1, _) = Knn.TopK(Logits(linear, xs), trainY);
        return new LinearProbeResult(top1, top5, trainTop1, "fast", o.Epochs, total);
    }

    private static Tensor Logits(Linear linear, Tensor x)
    {
        using var scope = NewDisposeScope();
        var parts = new List<Tensor>();
        for (long s = 0; s < x.shape[0]; s += 10000) parts.Add(linear.call(x.narrow(0, s, Math.Min(10000, x.shape[0] - s))));
        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
