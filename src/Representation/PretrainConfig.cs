// Configuration of a pretraining run's model: method, encoder, heads, loss constants, the view
// augmentation and input normalisation. Serialised as the checkpoint's gen.config, so a checkpoint
// alone rebuilds the encoder for probing. Defaults cite docs/methods/representation.md (§ numbers and D-n labels)
// and its sources ([solo], [lightly], [Rot], [HalC]).
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Representation.Contrastive;
using Gen.Representation.Encoders;

namespace Gen.Representation;

public enum PretrainMethodKind { Rotnet, Simclr, Mocov2, Simsiam, Supervised }

/// <summary>One view's augmentation (docs/methods/representation.md §2.2; grey set D-9).</summary>
public sealed record ViewConfig
{
    public double CropScaleMin { get; init; } = 0.08;   // RandomResizedCrop scale (lo, 1)
    public double FlipP { get; init; } = 0.5;
    public double Brightness { get; init; } = 0.4;
    public double Contrast { get; init; } = 0.4;
    public double Saturation { get; init; } = 0.4;
    public double Hue { get; init; } = 0.1;
    public double JitterP { get; init; } = 0.8;
    public double GrayP { get; init; } = 0.2;

    /// <summary>[solo symmetric.yaml]: SimCLR's strong colour jitter .8/.8/.8/.2.</summary>
    public static ViewConfig Strong => new() { Brightness = 0.8, Contrast = 0.8, Saturation = 0.8, Hue = 0.2 };

    /// <summary>[solo symmetric_weak.yaml]: MoCo v2+ and SimSiam, jitter .4/.4/.4/.1.</summary>
    public static ViewConfig Weak => new();

    /// <summary>The grey recipe (docs/methods/representation.md D-9): RRC .2–1, flip, brightness/contrast .4 with p .8; no saturation, hue or grey.</summary>
    public static ViewConfig Grey => new() { CropScaleMin = 0.2, Saturation = 0, Hue = 0, GrayP = 0 };

    public void Validate()
    {
        if (!(CropScaleMin > 0 && CropScaleMin <= 1)) throw new GenInputException($"crop scale must be in (0, 1], got {CropScaleMin}");
        foreach (double p in new[] { FlipP, JitterP, GrayP })
            if (p < 0 || p > 1) throw new GenInputException($"augmentation probabilities must be in [0, 1], got {p}");
    }
}

public sealed record PretrainConfig
{
    public PretrainMethodKind Method { get; init; } = PretrainMethodKind.Simclr;
    public required EncoderConfig Encoder { get; init; }
    public required double[] Mean { get; init; }
    public required double[] Std { get; init; }
    public int ImageSize { get; init; } = 28;
    public string Dataset { get; init; } = "";
    public string[] ClassNames { get; init; } = [];
    public ViewConfig Views { get; init; } = ViewConfig.Grey;
    public int CropPadding { get; init; } = 2;          // RotNet/supervised random crop: 4 px at 32 (He et al. 2016), 2 px at 28 (docs/methods/representation.md §2.2)

    // Heads (docs/methods/representation.md). CPU (§6): projector 128→512→128, SimSiam 128→512(BN)→256(BN), predictor 256→64→256.
    // ResNet-18 (§3.2–3.4, [solo]): 512→2048→256; SimSiam 512→2048→2048→2048, predictor 2048→512→2048.
    public int ProjectorHidden { get; init; } = 512;
    public int ProjectorOut { get; init; } = 128;
    public int ProjectorLayers { get; init; } = 2;      // SimSiam: 2 on CPU, 3 for ResNet-18 ([solo] simsiam.py)
    public int PredictorHidden { get; init; } = 64;
    public double Temperature { get; init; } = 0.2;     // SimCLR and MoCo τ ([solo] simclr.yaml, mocov2plus.yaml)

    // MoCo v2 ([solo] mocov2plus.py, momentum.py): queue per view, momentum cosine-ramped τ0 → τ1.
    public int QueueSize { get; init; } = 4096;         // §6 CPU; 32 768 for CIFAR ([solo])
    public double MomentumBase { get; init; } = 0.99;
    public double MomentumFinal { get; init; } = 0.999;

    public HallucinatorConfig Hallucinator { get; init; } = new();

    public int Classes => Math.Max(ClassNames.Length, 2);

    /// <summary>Width of the vector that enters the loss, the Hallucinator's D (§4): the projector output, which
    /// for SimSiam is also the predictor's output width.</summary>
    public int LossDim => ProjectorOut;

    /// <summary>The recipe for a method, encoder and dataset: §6 for the small encoders, §3 for ResNet-18.</summary>
    public static PretrainConfig For(PretrainMethodKind method, EncoderArch arch, ImageSet train, bool hallucinator = false,
                                     double lambdaMax = HallucinatorConfig.DefaultLambdaMax)
    {
        var (mean, std) = train.ChannelStats();
        bool big = arch == EncoderArch.Resnet18;
        bool rgb = train.Channels == 3;
        var enc = new EncoderConfig { Arch = arch, InChannels = train.Channels };
        ViewConfig views = !rgb ? ViewConfig.Grey : method == PretrainMethodKind.Simclr ? ViewConfig.Strong : ViewConfig.Weak;
        var c = new PretrainConfig
        {
            Method = method,
            Encoder = enc,
            Mean = mean.Select(m => Math.Round(m, 4)).ToArray(),
            Std = std.Select(s => Math.Round(s, 4)).ToArray(),
            ImageSize = train.Height,
            Dataset = train.Name,
            ClassNames = train.ClassNames.ToArray(),
            Views = views,
            CropPadding = train.Height >= 32 ? 4 : 2,
            ProjectorHidden = big ? 2048 : 512,
            ProjectorOut = method == PretrainMethodKind.Simsiam ? (big ? 2048 : 256) : (big ? 256 : 128),
            ProjectorLayers = method == PretrainMethodKind.Simsiam && big ? 3 : 2,
            PredictorHidden = big ? 512 : 64,
            QueueSize = big ? 32768 : 4096,
            Hallucinator = new HallucinatorConfig { Enabled = hallucinator, LambdaMax = lambdaMax },
        };
        if (hallucinator && method is PretrainMethodKind.Rotnet or PretrainMethodKind.Supervised)
            throw new GenInputException($"--hallucinator works with simclr, mocov2 and simsiam, not {method.ToString().ToLowerInvariant()}");
        return c;
    }

    public void Validate()
    {
        Encoder.Validate();
        Views.Validate();
        Hallucinator.Validate();
        if (Mean.Length != Encoder.InChannels || Std.Length != Encoder.InChannels)
            throw new GenInputException("normalisation must have one mean and std per input channel");
        if (Std.Any(s => !(s > 0))) throw new GenInputException("normalisation std must be positive");
        if (ProjectorHidden <= 0 || ProjectorOut <= 0 || PredictorHidden <= 0) throw new GenInputException("head widths must be positive");
        if (ProjectorLayers is not (2 or 3)) throw new GenInputException($"the projector has 2 or 3 layers, got {ProjectorLayers}");
        if (!(Temperature > 0)) throw new GenInputException($"--temperature must be positive, got {Temperature}");
        if (QueueSize <= 0) throw new GenInputException($"--queue must be positive, got {QueueSize}");
        if (MomentumBase < 0 || MomentumBase > 1 || MomentumFinal < 0 || MomentumFinal > 1)
            throw new GenInputException("momentum coefficients must be in [0, 1]");
        if (Hallucinator.Enabled && Method is PretrainMethodKind.Rotnet or PretrainMethodKind.Supervised)
            throw new GenInputException($"--hallucinator works with simclr, mocov2 and simsiam, not {Method.ToString().ToLowerInvariant()}");
    }

    /// <summary>Checks the run's batch size against the method (MoCo: the queue is a whole number of batches, §3.3).</summary>
    public void ValidateBatch(int batch)
    {
        if (Method == PretrainMethodKind.Mocov2 && QueueSize % batch != 0)
            throw new GenInputException($"MoCo's queue length {QueueSize} is not a multiple of --batch {batch}; choose a batch that divides it (e.g. 256) or set --queue to a multiple of {batch}");
    }
}
