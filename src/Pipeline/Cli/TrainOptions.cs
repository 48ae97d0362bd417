// Options every training command shares (issue 3: --steps/--epochs, --batch, --lr, --seed, --threads,
// --checkpoint-every, --resume, --out) plus the optimizer knobs of TrainConfig. A method passes its own
// defaults; an option the user gives overrides them.
using System.CommandLine;
using Gen.Pipeline.Training;

namespace Gen.Cli;

public sealed class TrainOptions
{
    public readonly Option<string> Out;
    public readonly Option<long?> Steps = new("--steps") { Description = "Optimizer steps to train (overrides --epochs)" };
    public readonly Option<double?> Epochs = new("--epochs") { Description = "Passes over the training set (used when --steps is not given)" };
    public readonly Option<int?> Batch = new("--batch") { Description = "Images per step" };
    public readonly Option<double?> Lr = new("--lr") { Description = "Peak learning rate" };
    public readonly Option<long?> Seed = new("--seed") { Description = "Seed for initialisation, data order and augmentation" };
    public readonly Option<int?> Threads = new("--threads") { Description = "libtorch intra-op threads (0 = libtorch's default)" };
    public readonly Option<long?> CheckpointEvery = new("--checkpoint-every") { Description = "Steps between checkpoints (0 = only at the end)" };
    public readonly Option<bool> Resume = new("--resume") { Description = "Continue the run in --out from its last checkpoint" };
    public readonly Option<OptimizerKind?> Optimizer = new("--optimizer") { Description = "sgd, adam, adamw or lars" };
    public readonly Option<double?> WeightDecay = new("--wd") { Description = "Weight decay" };
    public readonly Option<double?> Momentum = new("--momentum") { Description = "SGD momentum" };
    public readonly Option<long?> Warmup = new("--warmup") { Description = "Linear LR warm-up steps" };
    public readonly Option<LrScheduleKind?> Schedule = new("--schedule") { Description = "cosine or constant" };
    public readonly Option<double?> Clip = new("--clip") { Description = "Clip the gradient norm to this value (0 = off)" };
    public readonly Option<double?> Ema = new("--ema") { Description = "EMA half-life in images (0 = off)" };
    public readonly Option<long?> LogEvery = new("--log-every") { Description = "Steps between metrics.jsonl lines" };
    public readonly Option<long?> EvalEvery = new("--eval-every") { Description = "Steps between evaluations (0 = at the end)" };

    public TrainOptions(string defaultOut)
    {
        Out = new Option<string>("--out", "-o") { Description = "Run folder", DefaultValueFactory = _ => defaultOut };
    }

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Out, Steps, Epochs, Batch, Lr, Seed, Threads, CheckpointEvery, Resume, Optimizer,
                                           WeightDecay, Momentum, Warmup, Schedule, Clip, Ema, LogEvery, EvalEvery })
            command.Options.Add(o);
    }

    public TrainConfig Build(ParseResult r, TrainConfig defaults)
    {
        var c = defaults;
        if (r.GetValue(Steps) is { } steps)
        {
            if (steps <= 0) throw new Gen.Pipeline.GenInputException($"--steps must be positive, got {steps}");
            c = c with { Steps = steps, Epochs = 0 };
        }
        else if (r.GetValue(Epochs) is { } epochs)
        {
            if (!(epochs > 0)) throw new Gen.Pipeline.GenInputException($"--epochs must be positive, got {epochs}");
            c = c with { Epochs = epochs, Steps = 0 };
        }
        if (r.GetValue(Batch) is { } b) c = c with { Batch = b };
        if (r.GetValue(Lr) is { } lr) c = c with { Lr = lr };
        if (r.GetValue(Seed) is { } seed) c = c with { Seed = seed };
        if (r.GetValue(Threads) is { } t) c = c with { Threads = t };
        if (r.GetValue(CheckpointEvery) is { } ce) c = c with { CheckpointEvery = ce };
        if (r.GetValue(Optimizer) is { } o) c = c with { Optimizer = o };
        if (r.GetValue(WeightDecay) is { } wd) c = c with { WeightDecay = wd };
        if (r.GetValue(Momentum) is { } m) c = c with { Momentum = m };
        if (r.GetValue(Warmup) is { } w) c = c with { WarmupSteps = w };
        if (r.GetValue(Schedule) is { } s) c = c with { Schedule = s };
        if (r.GetValue(Clip) is { } clip) c = c with { ClipGradNorm = clip };
        if (r.GetValue(Ema) is { } ema) c = c with { EmaHalfLifeImages = ema };
        if (r.GetValue(LogEvery) is { } le) c = c with { LogEvery = le };
        if (r.GetValue(EvalEvery) is { } ee) c = c with { EvalEvery = ee };
        c.Validate();
        return c;
    }
}
