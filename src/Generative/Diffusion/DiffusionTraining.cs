// Diffusion as a registered method (docs/methods/diffusion.md): `gen train diffusion` trains the EDM
// baseline, or with --cascade one LowDiff network over several resolutions; its checkpoints (kinds edm
// and lowdiff) open as image samplers with the sampler options below.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using Gen.Pipeline.Data;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public sealed record DiffusionParams : TrainParams
{
    [Param("LowDiff resolutions, low to high, ending at the padded image size (e.g. 8,16,32); omit for the EDM baseline")]
    public int[] Cascade { get; init; } = [];

    [Param("Class-conditional training with label dropout (enables --class and --guidance when sampling)")]
    public bool Conditional { get; init; }

    [Param("UNet base channels C (levels use C·channel-mult)")]
    public int Width { get; init; } = 16;                 // docs/methods/diffusion.md §2: C = 16

    [Param("Channel multipliers per UNet level")]
    public int[] ChannelMult { get; init; } = [1, 2, 4];

    [Param("Residual blocks per level in the encoder (decoder: one more)")]
    public int Blocks { get; init; } = 2;

    [Param("Dropout inside residual blocks")]
    public double Dropout { get; init; }

    [Param("LowDiff: probability of training each stage (default 0.3,0.3,0.4)")]
    public double[] StageProbs { get; init; } = [];       // empty = 0.3, 0.3, 0.4 for three stages; uniform otherwise

    [Param("LowDiff: loss weight of each stage (default all 1)")]
    public double[] StageWeights { get; init; } = [];

    [Param("LowDiff: images per step at a low-resolution stage: pixels (B·(32/r)², every step costs a baseline step) or fixed (B, a step costs less)")]
    public string StageBatch { get; init; } = DiffusionConfig.PixelsBatch;

    [Param("Probability of dropping the class label (classifier-free guidance)")]
    public double LabelDropout { get; init; } = 0.1;

    [Param("Steps between sample grids in RUN/samples (0 = only at the end)")]
    public long SampleEvery { get; init; } = 500;

    [Param("Images in each training sample grid")]
    public int GridN { get; init; } = 64;

    public override void Validate()
    {
        UNetConfig.CheckWidth(Width);
        if (Blocks <= 0) throw new GenInputException($"--blocks must be positive, got {Blocks}");
        if (ChannelMult.Length == 0 || ChannelMult.Any(m => m <= 0)) throw new GenInputException("--channel-mult takes positive integers, e.g. 1,2,4");
        if (GridN <= 0) throw new GenInputException($"--grid-n must be positive, got {GridN}");
        if (SampleEvery < 0) throw new GenInputException($"--sample-every must be zero (end only) or positive, got {SampleEvery}");
        if ((StageProbs.Length > 0 || StageWeights.Length > 0 || StageBatch != DiffusionConfig.PixelsBatch) && Cascade.Length == 0)
            throw new GenInputException("--stage-probs, --stage-weights and --stage-batch apply to a LowDiff cascade; add --cascade 8,16,32");
    }
}

/// <summary>Sampler options of a diffusion checkpoint (`gen sample`, the sample stage).</summary>
public sealed record DiffusionSampleSettings
{
    [Param("Steps of an EDM checkpoint (default 18 = 35 NFE with Heun)")]
    public int? Steps { get; init; }

    [Param("Steps per cascade stage of a LowDiff checkpoint (default 18,8,6)")]
    public int[]? StageSteps { get; init; }

    [Param("Sampler: heun (default), euler, dpmpp-2m or euler-a; a LowDiff checkpoint takes one per stage too (e.g. dpmpp-2m,heun,heun)")]
    public string? Sampler { get; init; }

    [Param("LowDiff: noise level at which each refine stage starts")]
    public double SigmaStart { get; init; } = 2.0;         // docs/methods/diffusion.md §3

    [Param("LowDiff: noise added to the condition at inference")]
    public double SigmaAug { get; init; }

    [Param("Class index for a conditional checkpoint (default: seed mod classes)")]
    public int? Class { get; init; }

    [Param("Classifier-free guidance g (1 = off; default 2 for a class-conditional checkpoint)")]
    public double? Guidance { get; init; }

    [Param("Stochastic churn S_churn (0 = deterministic ODE)")]
    public double Churn { get; init; }

    [Param("Churn only at σ ≥ S_min")]
    public double SMin { get; init; }

    [Param("Churn only at σ ≤ S_max")]
    public double SMax { get; init; } = double.PositiveInfinity;

    [Param("Churn noise scale S_noise")]
    public double SNoise { get; init; } = 1.0;

    [Param("Run the network in bfloat16 (sampler state stays float64)")]
    public bool Bf16 { get; init; }

    [Param("Images per sampler batch")]
    public int Batch { get; init; } = 256;

    /// <summary>The sampler options for a model (the step-option rules live here).</summary>
    public SampleOptions ToOptions(DiffusionConfig c)
    {
        if (Steps is not null && StageSteps is not null) throw new GenInputException("give either --steps or --stage-steps, not both");
        if (Steps is not null && c.IsCascade)
            throw new GenInputException($"this LowDiff checkpoint samples in {c.Stages} stages; give --stage-steps with {c.Stages} counts (e.g. 18,8,6) instead of --steps");
        return new SampleOptions
        {
            StageSteps = Steps is { } st ? [st] : StageSteps,
            Samplers = Sampler?.Split(',').Select(Solvers.Parse).ToArray(),
            SigmaStart = SigmaStart,
            SigmaAug = SigmaAug,
            ClassIndex = Class,
            Guidance = Guidance ?? (c.LabelDim > 0 ? DiffusionConfig.ConditionalGuidance : 1),
            Churn = new ChurnOptions { SChurn = Churn, SMin = SMin, SMax = SMax, SNoise = SNoise },
            Batch = Batch,
        };
    }
}

public sealed class DiffusionTraining : Method<DiffusionParams, DiffusionConfig>
{
    public const string SamplesDir = "samples";

    public override string Name => "diffusion";
    public override string Summary => "Train an EDM diffusion model, or with --cascade one LowDiff network over several resolutions";
    public override IReadOnlyList<string> CheckpointKinds => [DiffusionConfig.EdmKind, DiffusionConfig.LowDiffKind];
    public override Type? SampleSettingsType => typeof(DiffusionSampleSettings);
    public override IReadOnlyList<Type> Capabilities => [typeof(IImageSampler), typeof(Gen.Pipeline.Onnx.IOnnxExportable)];

    // docs/methods/diffusion.md §2 for CPU-scale runs: Adam (0.9, 0.999, 1e-8) as edm/train.py, lr 1e-3 at
    // batch 128, linear warm-up over the first 10k images (79 steps), constant LR after it (EDM has no
    // decay), EMA half-life 50k images with EDM's 0.05 ramp-up, no weight decay; about 2 epochs.
    public override TrainConfig Recipe(DiffusionParams p, int? batch) => new()
    {
        Epochs = 2,
        Batch = 128,
        Lr = 1e-3,
        Optimizer = OptimizerKind.Adam,
        Beta1 = 0.9,
        Beta2 = 0.999,
        Eps = 1e-8,
        WeightDecay = 0,
        WarmupSteps = 79,
        Schedule = LrScheduleKind.Constant,
        EmaHalfLifeImages = 50_000,
        EmaRampup = 0.05,
    };

    public override RunOptions RunDefaults(DiffusionParams p) => new() { CheckpointEvery = 250, LogEvery = 20 };

    /// <summary>The network resolution for images of a given size: the next power of two (28 → 32, docs/methods/diffusion.md §2).</summary>
    public static int PaddedSize(int size)
    {
        int r = 1;
        while (r < size) r <<= 1;
        return r;
    }

    public override DiffusionConfig BuildConfig(DiffusionParams p, ImageSet train)
    {
        if (train.Height != train.Width)
            throw new GenInputException($"'{train.Name}' has {train.Width}x{train.Height} images; diffusion training needs square images");
        int res = PaddedSize(train.Height);
        if (p.Conditional && train.ClassCount < 2)
            throw new GenInputException($"--conditional needs labelled data with at least two classes; '{train.Name}' has {train.ClassCount}");
        int levels = p.ChannelMult.Length;
        if (res % (1 << (levels - 1)) != 0 || (res >> (levels - 1)) < 2)
            throw new GenInputException($"{train.Height}x{train.Height} images (padded to {res}) are too small for a {levels}-level UNet; use fewer --channel-mult entries");
        double[] probs = p.StageProbs, weights = p.StageWeights;
        if (p.Cascade.Length > 0)
        {
            DiffusionConfig.ValidateCascade(p.Cascade, res, levels);
            if (probs.Length == 0)
                probs = p.Cascade.Length == 3 ? [0.3, 0.3, 0.4] : Enumerable.Repeat(1.0 / p.Cascade.Length, p.Cascade.Length).ToArray();
            if (weights.Length == 0) weights = Enumerable.Repeat(1.0, p.Cascade.Length).ToArray();
        }
        var config = new DiffusionConfig
        {
            Net = new UNetConfig { ModelChannels = p.Width, ChannelMult = p.ChannelMult, NumBlocks = p.Blocks, AttnLevels = [levels - 1], Dropout = p.Dropout },
            ImgChannels = train.Channels,
            DataResolution = train.Height,
            Resolution = res,
            LabelDim = p.Conditional ? train.ClassCount : 0,
            LabelDropout = p.LabelDropout,
            ClassNames = p.Conditional ? train.ClassNames.ToArray() : [],
            Dataset = p.Data,
            Cascade = p.Cascade,
            StageProbs = p.Cascade.Length > 0 ? probs : [],
            StageLossWeights = p.Cascade.Length > 0 ? weights : [],
            StageBatch = p.StageBatch,
        };
        config.Validate();
        return config;
    }

    public override TrainPlan Plan(DiffusionParams p, DiffusionConfig config, TrainConfig train, ImageSet data, TrainContext ctx)
    {
        using var init = new Generator((ulong)train.Seed);
        var method = new DiffusionMethod(config, data, init);
        int n = p.GridN;
        string dir = Path.Combine(ctx.OutputDir, SamplesDir);
        var grid = new TrainHook("sample-grid", p.SampleEvery, (_, step) =>
        {
            WriteTrainingGrid(method.Diffusion, n, Path.Combine(dir, $"step-{step:D8}.png"));
            return new Dictionary<string, double>();
        });
        return new TrainPlan
        {
            Method = method,
            Train = train,
            Hooks = [grid],
            RunInfo = new JsonObject
            {
                ["parameters"] = method.Diffusion.ParameterCount,
                ["step_cost_vs_baseline"] = config.StepCostVsBaseline(),
            },
            ExtraOutputs = [SamplesDir],
        };
    }

    /// <summary>A sample grid of seeds 0..n−1 with the default steps (the Trainer has swapped in the EMA weights).</summary>
    public static void WriteTrainingGrid(DiffusionModel model, int n, string path)
    {
        var seeds = Enumerable.Range(0, n).Select(i => (long)i).ToList();
        var (images, _) = DiffusionSampler.Sample(model, seeds, new SampleOptions { Batch = n });
        using (images) SampleWriter.WriteGrid(path, images);
    }

    public override string Describe(TrainResult result) => $"sample grids in {Path.Combine(result.RunDir, SamplesDir)}";

    public override IModel Load(string file, CheckpointInfo info, JsonObject sampleSettings)
    {
        var settings = ParamSchema.Of<DiffusionSampleSettings>().Bind(new DiffusionSampleSettings(), sampleSettings, $"sampling '{file}'");
        DiffusionModel model = DiffusionModel.Load(file);
        try
        {
            var options = settings.ToOptions(model.Config);
            if (settings.Bf16) model.ToBFloat16();
            return new DiffusionImageSampler(model, options, settings.Bf16);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
