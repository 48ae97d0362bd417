// Configuration of an energy-based joint classifier/generator run (docs/methods/jem-at.md): the
// network, its normalisation, and the stage it trains with its attack and curriculum settings.
// Stored as the checkpoint's gen.config; a resumed run must match it.
using Gen.Pipeline;
using Gen.Pipeline.Classifier;
using Gen.Pipeline.Data;

namespace Gen.Generative.Jem;

public sealed record JemConfig
{
    public const string CnnS = "cnn-s";
    public const string Wrn16x4 = "wrn-16-4";
    public const string StagePlain = "plain";
    public const string Stage1 = "1";
    public const string Stage2 = "2";

    public string Arch { get; init; } = CnnS;
    public int InChannels { get; init; } = 1;
    public int ImageSize { get; init; } = 28;
    public int Classes { get; init; } = 10;
    public double[] Mean { get; init; } = [0.5];
    public double[] Std { get; init; } = [0.5];
    public string[] ClassNames { get; init; } = [];
    public string Dataset { get; init; } = "";

    /// <summary>plain (cross-entropy), 1 (adversarial training), 2 (dual adversarial training).</summary>
    public string Stage { get; init; } = Stage2;

    // Augmentation of real batches: random shift by zero-padded crop, horizontal flip.
    public int CropPadding { get; init; } = 2;
    public bool Flip { get; init; } = true;

    // The classifier's adversarial training (stages 1 and 2): PGD maximising the cross-entropy.
    public string Threat { get; init; } = "l2";
    public double Eps { get; init; } = 1.0;
    public int AttackSteps { get; init; } = 5;
    public double AttackStepSize { get; init; } = 0.4;

    // Stage 2: contrastive samples by T steps of class-conditional ascent of step α_g from p0; the
    // T curriculum raises T when the windowed real-vs-contrastive AUC reaches the threshold.
    public double GenStepSize { get; init; } = 0.25;
    public int TMax { get; init; } = 30;
    public double AucThreshold { get; init; } = 0.8;
    public int AucWindow { get; init; } = 8;

    public PgdAttack TrainingAttack() => new(PgdAttack.ParseThreat(Threat), Eps, AttackSteps, AttackStepSize);

    public void Validate()
    {
        if (Arch is not (CnnS or Wrn16x4)) throw new GenInputException($"--arch takes {CnnS} or {Wrn16x4}, got '{Arch}'");
        if (Stage is not (StagePlain or Stage1 or Stage2)) throw new GenInputException($"the stage of a jem model is plain, 1 or 2, got '{Stage}'");
        if (InChannels is not (1 or 3)) throw new GenInputException($"jem takes 1- or 3-channel images, got {InChannels}");
        if (Classes < 2) throw new GenInputException($"jem needs at least two classes, got {Classes}");
        if (Mean.Length != InChannels || Std.Length != InChannels || Std.Any(s => !(s > 0)))
            throw new GenInputException("jem normalisation needs one mean and one positive std per channel");
        if (CropPadding < 0) throw new GenInputException($"crop padding must be zero or positive, got {CropPadding}");
        TrainingAttack().Validate();
        if (!(GenStepSize > 0)) throw new GenInputException($"--gen-step-size must be positive, got {GenStepSize}");
        if (TMax < 0) throw new GenInputException($"--t-max must be zero or positive, got {TMax}");
        if (AucWindow < 1) throw new GenInputException($"--auc-window must be at least 1, got {AucWindow}");
        if (!(AucThreshold > 0 && AucThreshold <= 1)) throw new GenInputException($"--auc-threshold must be in (0, 1], got {AucThreshold}");
        if (ImageSize % 4 != 0) throw new GenInputException($"jem's p0 cuts images into a 4×4 grid of patches; the image size must be a multiple of 4, got {ImageSize}");
    }

    /// <summary>Normalisation and class names measured on the training set.</summary>
    public static JemConfig For(ImageSet train, string dataRef)
    {
        var (mean, std) = train.ChannelStats();
        bool digits = train.Name.StartsWith("mnist", StringComparison.OrdinalIgnoreCase);
        return new JemConfig
        {
            InChannels = train.Channels,
            ImageSize = train.Height,
            Classes = Math.Max(train.ClassCount, 2),
            Mean = mean.Select(m => Math.Round(m, 4)).ToArray(),
            Std = std.Select(s => Math.Round(s, 4)).ToArray(),
            ClassNames = train.ClassNames.ToArray(),
            Dataset = dataRef,
            CropPadding = train.Height >= 32 ? 4 : 2,
            Flip = !digits,   // digits must not be mirrored
        };
    }
}
