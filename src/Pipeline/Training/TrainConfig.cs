// The semantic training options every method shares: everything here changes the trained weights, so
// all of it enters a stage's cache key. Defaults are for the Fashion-MNIST classifier; each method's
// recipe overrides them with its own cited defaults. How a run is executed (threads, log and
// checkpoint cadence) is not here but in RunOptions (docs/architecture.md "Stages").
using Gen.Pipeline.Methods;

namespace Gen.Pipeline.Training;

public enum OptimizerKind { Sgd, Adam, AdamW, Lars }

public enum LrScheduleKind { Cosine, Constant }

public sealed record TrainConfig
{
    [Param("Optimizer steps to train (overrides --epochs)")]
    public long Steps { get; init; }                    // total optimizer steps (derived from Epochs when 0)
    [Param("Passes over the training set (used when --steps is not given)")]
    public double Epochs { get; init; }                 // used when Steps == 0
    [Param("Images per step")]
    public int Batch { get; init; } = 128;
    [Param("Peak learning rate")]
    public double Lr { get; init; } = 0.05;
    [Param("sgd, adam, adamw or lars")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    [Param("SGD momentum")]
    public double Momentum { get; init; } = 0.9;        // SGD; He et al. 2016 (ResNet) use 0.9
    public bool Nesterov { get; init; } = true;
    [Param("Weight decay", Name = "wd")]
    public double WeightDecay { get; init; } = 5e-4;    // ResNet-on-CIFAR practice (He et al. 2016 use 1e-4; 5e-4 is the common CIFAR choice, e.g. kuangliu/pytorch-cifar)
    public double Beta1 { get; init; } = 0.9;           // Adam (Kingma & Ba 2015 defaults)
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double LarsEta { get; init; } = 0.02;        // LARS trust coefficient η (solo-learn simclr.yaml eta_lars 0.02; docs/methods/representation.md)
    public bool LarsClip { get; init; } = true;         // LARS r clipped to min(r/lr, 1) (solo-learn lars.py clip_lr)
    public bool LarsExcludeBiasNorm { get; init; } = true; // 1-D parameters skip LARS scaling and decay (solo-learn exclude_bias_n_norm)
    [Param("cosine or constant")]
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Cosine;
    [Param("Linear LR warm-up steps", Name = "warmup")]
    public long WarmupSteps { get; init; } = 0;
    [Param("Clip the gradient norm to this value (0 = off)", Name = "clip")]
    public double ClipGradNorm { get; init; } = 0;      // 0 = off
    [Param("EMA half-life in images (0 = off)", Name = "ema")]
    public double EmaHalfLifeImages { get; init; } = 0; // 0 = off; EDM's EMA as a half-life in images
    public double EmaRampup { get; init; } = 0.05;      // EDM training_loop.py ema_rampup_ratio
    [Param("Seed for initialisation, data order and augmentation")]
    public long Seed { get; init; } = 0;
    [Param("Steps between evaluations (0 = at the end)")]
    public long EvalEvery { get; init; } = 0;           // steps between evaluations; 0 = at the end only

    public long TotalSteps(int datasetSize)
    {
        if (Steps > 0) return Steps;
        if (Epochs > 0) return Math.Max(1, (long)Math.Ceiling(Epochs * (datasetSize / Batch)));
        throw new GenInputException("give --steps or --epochs (a positive number)");
    }

    public void Validate()
    {
        if (Steps < 0) throw new GenInputException($"--steps must be positive, got {Steps}");
        if (Epochs < 0 || double.IsNaN(Epochs)) throw new GenInputException($"--epochs must be positive, got {Epochs}");
        if (Batch <= 0) throw new GenInputException($"--batch must be positive, got {Batch}");
        if (!(Lr > 0) || double.IsInfinity(Lr)) throw new GenInputException($"--lr must be a positive number, got {Lr}");
        if (Momentum < 0 || Momentum >= 1) throw new GenInputException($"--momentum must be in [0, 1), got {Momentum}");
        if (WeightDecay < 0) throw new GenInputException($"--wd must be zero or positive, got {WeightDecay}");
        if (Beta1 < 0 || Beta1 >= 1 || Beta2 < 0 || Beta2 >= 1) throw new GenInputException("Adam betas must be in [0, 1)");
        if (WarmupSteps < 0) throw new GenInputException($"--warmup must be zero or positive, got {WarmupSteps}");
        if (ClipGradNorm < 0) throw new GenInputException($"--clip must be zero (off) or positive, got {ClipGradNorm}");
        if (EmaHalfLifeImages < 0) throw new GenInputException($"--ema must be zero (off) or positive, got {EmaHalfLifeImages}");
        if (EvalEvery < 0) throw new GenInputException($"--eval-every must be zero or positive, got {EvalEvery}");
    }
}
