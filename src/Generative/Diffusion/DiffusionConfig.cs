// Configuration of a diffusion model: the UNet (after NVlabs/edm training/networks.py SongUNet with
// the small layout of docs/methods/diffusion.md §2.8), the EDM preconditioning/loss
// constants (Karras et al. 2022, Table 1; edm/training/loss.py) and the LowDiff cascade (docs/methods/diffusion.md §3).
// Stored as the checkpoint's gen.config, so a checkpoint alone rebuilds the model.
using Gen.Pipeline;

namespace Gen.Generative.Diffusion;

public sealed record UNetConfig
{
    public int ImgResolution { get; init; } = 32;        // padded Fashion-MNIST (28 → 32, docs/methods/diffusion.md §2.1)
    public int InChannels { get; init; } = 1;            // image channels (+ condition channels for LowDiff)
    public int OutChannels { get; init; } = 1;
    public int LabelDim { get; init; }                   // 0 = unconditional (SongUNet label_dim)
    public int AugmentDim { get; init; }                 // LowDiff stage vector length (SongUNet augment_dim)
    public int ModelChannels { get; init; } = 16;        // C of docs/methods/diffusion.md §2.8 (EDM CIFAR-10: 128)
    public int[] ChannelMult { get; init; } = [1, 2, 4]; // docs/methods/diffusion.md §2.8: 16@32², 32@16², 64@8²
    public int ChannelMultEmb { get; init; } = 4;        // SongUNet default: embedding = 4C
    public int NumBlocks { get; init; } = 2;             // docs/methods/diffusion.md §2.8: 2 per level in the encoder, 3 in the decoder
    public int[] AttnLevels { get; init; } = [2];        // levels (0 = full resolution) with attention: the lowest one
    public double Dropout { get; init; }                 // docs/methods/diffusion.md §2.7: 0 for 1–3 epoch runs (EDM CIFAR: 0.13)

    public static void CheckWidth(int width)
    {
        if (width < 16 || width % 16 != 0)
            throw new GenInputException($"--width must be a positive multiple of 16 (libtorch's 3×3 convolution is wrong on this CPU for other widths; see docs/platform.md §4), got {width}");
    }

    public void Validate()
    {
        if (ImgResolution <= 0 || InChannels <= 0 || OutChannels <= 0)
            throw new GenInputException("UNet resolution and channel counts must be positive");
        // Every conv input width must be ≤ 16 or a multiple of 16: libtorch 2.10's oneDNN 3×3 convolution
        // forward returns wrong values on this AVX-512 CPU for 16 < C_in ≢ 0 (mod 16) at batch ≥ 2 (measured,
        // docs/platform.md §4). With C a multiple of 16 every UNet width (C·mult and decoder concatenations) is.
        CheckWidth(ModelChannels);
        if (ChannelMult.Length == 0 || ChannelMult.Any(m => m <= 0))
            throw new GenInputException("--channel-mult takes positive integers, e.g. 1,2,4");
        if (NumBlocks <= 0) throw new GenInputException($"--blocks must be positive, got {NumBlocks}");
        if (LabelDim < 0 || AugmentDim < 0) throw new GenInputException("label and augment dimensions must not be negative");
        if (Dropout < 0 || Dropout >= 1) throw new GenInputException($"--dropout must be in [0, 1), got {Dropout}");
        if (ImgResolution % (1 << (ChannelMult.Length - 1)) != 0)
            throw new GenInputException($"a {ChannelMult.Length}-level UNet needs a resolution divisible by {1 << (ChannelMult.Length - 1)}, got {ImgResolution}");
    }
}

public sealed record DiffusionConfig
{
    public const string EdmKind = "edm";
    public const string LowDiffKind = "lowdiff";

    /// <summary>The guidance a class-conditional checkpoint samples with when --guidance is not given
    /// (docs/methods/diffusion.md §2.6: the measured trade-off of the bundled conditional model).</summary>
    public const double ConditionalGuidance = 2.0;

    public required UNetConfig Net { get; init; }
    public int ImgChannels { get; init; } = 1;
    public int DataResolution { get; init; } = 28;       // stored images (saved/evaluated size)
    public int Resolution { get; init; } = 32;           // network resolution after padding with −1
    public double SigmaData { get; init; } = 0.5;        // edm/training/loss.py EDMLoss default [DD: not re-estimated]
    public double PMean { get; init; } = -1.2;           // edm/training/loss.py: ln σ ~ N(P_mean, P_std²)
    public double PStd { get; init; } = 1.2;
    public double SigmaMin { get; init; } = 0.002;       // edm/generate.py defaults
    public double SigmaMax { get; init; } = 80;
    public double Rho { get; init; } = 7;                // Karras et al. 2022 eq. 5
    public int LabelDim { get; init; }                   // 0 = unconditional
    public double LabelDropout { get; init; } = 0.1;     // Ho & Salimans 2022 (CFG) use p_uncond 0.1–0.2
    public string[] ClassNames { get; init; } = [];
    public string Dataset { get; init; } = "";

    // LowDiff cascade (docs/methods/diffusion.md §3); empty = the single-resolution EDM baseline.
    public int[] Cascade { get; init; } = [];
    public double[] StageProbs { get; init; } = [];      // docs/methods/diffusion.md §3.3: (0.3, 0.3, 0.4) for (8, 16, 32)
    public double[] StageLossWeights { get; init; } = [];// docs/methods/diffusion.md §3.2: per-stage loss weights w_s, default 1
    public double SigmaAugMax { get; init; } = 0.25;     // docs/methods/diffusion.md §3.3: σ_aug ~ U(0, 0.25) with prob. 0.5 (CDM conditioning augmentation)
    public double SigmaAugProb { get; init; } = 0.5;     // probability that a refine-stage sample gets σ_aug > 0
    public string StageBatch { get; init; } = PixelsBatch; // docs/methods/diffusion.md §3.3: pixels (B·(R/r)² images) or fixed (B)

    public const string PixelsBatch = "pixels", FixedBatch = "fixed";

    public bool IsCascade => Cascade.Length > 0;
    public string Kind => IsCascade ? LowDiffKind : EdmKind;
    public int Stages => IsCascade ? Cascade.Length : 1;

    /// <summary>Resolution of stage s (the baseline has one stage at full resolution).</summary>
    public int StageResolution(int s) => IsCascade ? Cascade[s] : Resolution;

    /// <summary>Images a training step of stage s uses for a Trainer batch of b.</summary>
    public long StageBatchSize(int s, long b) =>
        IsCascade && StageBatch == PixelsBatch ? b << (2 * LowDiffCascade.Octaves(Cascade[s], Resolution)) : b;

    /// <summary>
    /// Expected FLOPs of one training step as a fraction of a baseline step at full resolution
    /// (convolution cost scales with pixels): 1 for the baseline and for pixel-equalised cascade batches,
    /// Σ p_s·(r_s/R)² for fixed ones.
    /// </summary>
    public double StepCostVsBaseline()
    {
        if (!IsCascade || StageBatch == PixelsBatch) return 1;
        double sum = StageProbs.Sum(), cost = 0;
        for (int s = 0; s < Stages; s++) cost += StageProbs[s] / sum * Math.Pow((double)Cascade[s] / Resolution, 2);
        return cost;
    }

    public void Validate()
    {
        Net.Validate();
        if (!(SigmaData > 0) || !(PStd > 0)) throw new GenInputException("σ_data and P_std must be positive");
        if (!(SigmaMin > 0) || !(SigmaMax > SigmaMin) || !(Rho > 0)) throw new GenInputException("need 0 < σ_min < σ_max and ρ > 0");
        if (LabelDim < 0) throw new GenInputException("label dimension must not be negative");
        if (LabelDropout < 0 || LabelDropout >= 1) throw new GenInputException($"--label-dropout must be in [0, 1), got {LabelDropout}");
        if (!IsCascade) return;
        ValidateCascade(Cascade, Resolution, Net.ChannelMult.Length);
        if (StageProbs.Length != Cascade.Length || StageProbs.Any(p => !(p >= 0)) || !(StageProbs.Sum() > 0))
            throw new GenInputException($"--stage-probs needs {Cascade.Length} non-negative numbers (one per cascade resolution) with a positive sum");
        if (StageLossWeights.Length != Cascade.Length || StageLossWeights.Any(w => !(w > 0)))
            throw new GenInputException($"--stage-weights needs {Cascade.Length} positive numbers (one per cascade resolution)");
        if (StageBatch != PixelsBatch && StageBatch != FixedBatch)
            throw new GenInputException($"--stage-batch must be '{PixelsBatch}' or '{FixedBatch}', got '{StageBatch}'");
        if (SigmaAugMax < 0 || SigmaAugProb < 0 || SigmaAugProb > 1)
            throw new GenInputException("conditioning augmentation needs σ_aug,max ≥ 0 and a probability in [0, 1]");
    }

    /// <summary>
    /// A cascade must rise strictly, end at the network resolution, double from stage to stage (the
    /// cascade operators are 2×2 average pooling and nearest ×2) and let every stage pass through all
    /// UNet levels.
    /// </summary>
    public static void ValidateCascade(int[] cascade, int resolution, int levels)
    {
        string text = string.Join(",", cascade);
        if (cascade.Length < 2)
            throw new GenInputException($"--cascade needs at least two resolutions (e.g. 8,16,32), got '{text}'");
        if (cascade[^1] != resolution)
            throw new GenInputException($"--cascade must end at the padded image size {resolution}, got '{text}'");
        int minRes = 1 << (levels - 1);
        for (int i = 0; i < cascade.Length; i++)
        {
            if (cascade[i] <= 0 || resolution % cascade[i] != 0)
                throw new GenInputException($"--cascade resolution {cascade[i]} does not divide the padded image size {resolution}; use e.g. 8,16,32");
            if (cascade[i] % minRes != 0)
                throw new GenInputException($"--cascade resolution {cascade[i]} cannot pass through the UNet's {levels} levels (needs a multiple of {minRes})");
            if (i > 0 && cascade[i] != 2 * cascade[i - 1])
                throw new GenInputException($"--cascade resolutions must double from stage to stage (e.g. 8,16,32), got '{text}'");
        }
    }

    /// <summary>The LowDiff stage vector length: one-hot stage (K+1) plus σ_aug/0.25 (docs/methods/diffusion.md §3.2).</summary>
    public static int StageVectorDim(int stages) => stages + 1;
}
