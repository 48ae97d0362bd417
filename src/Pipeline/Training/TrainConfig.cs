// Options every training command shares. Defaults are for the Fashion-MNIST classifier; methods
// override them with their own cited defaults. Serialized into the run's config.json.
namespace Gen.Pipeline.Training;

public enum OptimizerKind { Sgd, Adam, AdamW, Lars }

public enum LrScheduleKind { Cosine, Constant }

public sealed record TrainConfig
{
    public long Steps { get; init; }                    // total optimizer steps (derived from Epochs when 0)
    public double Epochs { get; init; }                 // used when Steps == 0
    public int Batch { get; init; } = 128;
    public double Lr { get; init; } = 0.05;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public double Momentum { get; init; } = 0.9;        // SGD; He et al. 2016 (ResNet) use 0.9
    public bool Nesterov { get; init; } = true;
    public double WeightDecay { get; init; } = 5e-4;    // ResNet-on-CIFAR practice (He et al. 2016 use 1e-4; 5e-4 is the common CIFAR choice, e.g. kuangliu/pytorch-cifar)
    public double Beta1 { get; init; } = 0.9;           // Adam (Kingma & Ba 2015 defaults)
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double LarsEta { get; init; } = 0.02;        // LARS trust coefficient η ([solo] simclr.yaml eta_lars 0.02; issue 6)
    public bool LarsClip { get; init; } = true;         // LARS r clipped to min(r/lr, 1) ([solo] lars.py clip_lr)
    public bool LarsExcludeBiasNorm { get; init; } = true; // 1-D parameters skip LARS scaling and decay ([solo] exclude_bias_n_norm)
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Cosine;
    public long WarmupSteps { get; init; } = 0;
    public double MinLrFactor { get; init; } = 0.0;     // cosine ends at Lr·MinLrFactor (SGDR, Loshchilov & Hutter 2017)
    public double ClipGradNorm { get; init; } = 0;      // 0 = off
    public double EmaHalfLifeImages { get; init; } = 0; // 0 = off; EDM's EMA as a half-life in images
    public double EmaRampup { get; init; } = 0.05;      // EDM training_loop.py ema_rampup_ratio
    public long Seed { get; init; } = 0;
    public int Threads { get; init; } = 0;              // 0 = leave libtorch's choice
    public long CheckpointEvery { get; init; } = 1000;  // steps; 0 = only at the end
    public long LogEvery { get; init; } = 50;           // steps between metrics.jsonl lines
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
        if (Threads < 0) throw new GenInputException($"--threads must be zero (auto) or positive, got {Threads}");
        if (CheckpointEvery < 0) throw new GenInputException($"--checkpoint-every must be zero (end only) or positive, got {CheckpointEvery}");
        if (LogEvery <= 0) throw new GenInputException($"--log-every must be positive, got {LogEvery}");
        if (EvalEvery < 0) throw new GenInputException($"--eval-every must be zero or positive, got {EvalEvery}");
        if (MinLrFactor < 0 || MinLrFactor > 1) throw new GenInputException($"min LR factor must be in [0, 1], got {MinLrFactor}");
    }
}
