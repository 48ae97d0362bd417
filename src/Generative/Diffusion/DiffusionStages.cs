// The diffusion stages: train (data → run folder with EMA checkpoints, loss curves and a sample grid
// every N steps, through the foundation's Trainer) and sample (checkpoint → grid PNG, PNG folder,
// .npz), after the pattern of Pipeline/Classifier/ClassifierStages.cs.
using System.Text.Json;
using System.Text.Json.Nodes;
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Stages;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public sealed record TrainDiffusionParams
{
    public string Data { get; init; } = "fashion-mnist";
    public required TrainConfig Train { get; init; }
    public int Width { get; init; } = 16;                 // spec §2: C = 16
    public int[] ChannelMult { get; init; } = [1, 2, 4];
    public int Blocks { get; init; } = 2;
    public double Dropout { get; init; }
    public int[] Cascade { get; init; } = [];             // empty = EDM baseline
    public double[] StageProbs { get; init; } = [];       // empty = spec default (0.3, 0.3, 0.4 for three stages; uniform otherwise)
    public double[] StageWeights { get; init; } = [];     // empty = all 1
    public bool Conditional { get; init; }
    public double LabelDropout { get; init; } = 0.1;
    public long SampleEvery { get; init; } = 500;         // steps between sample grids (0 = only at the end)
    public int GridCount { get; init; } = 64;
    public bool Resume { get; init; }
}

public sealed class TrainDiffusionStage : IStage<TrainDiffusionParams, TrainResult>
{
    public const string SamplesDir = "samples";

    private readonly IProgress<TrainProgress>? _progress;

    public TrainDiffusionStage(IProgress<TrainProgress>? progress = null) => _progress = progress;

    public string Kind => "train-diffusion";

    public IReadOnlyList<StageInput> Inputs(TrainDiffusionParams p)
    {
        var r = DatasetRef.Parse(p.Data);
        string source = r.ShortName is not null ? DatasetCatalog.Locate(DatasetCatalog.Known[r.ShortName]) : r.Path!;
        return [new StageInput("data", p.Data, ContentHash.OfPath(source))];
    }

    /// <summary>The network resolution for images of a given size: the next power of two (28 → 32, spec §2).</summary>
    public static int PaddedSize(int size)
    {
        int r = 1;
        while (r < size) r <<= 1;
        return r;
    }

    public static DiffusionConfig BuildConfig(TrainDiffusionParams p, ImageSet train)
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
        };
        config.Validate();
        return config;
    }

    public TrainResult Run(TrainDiffusionParams p, StageContext ctx) =>
        Run(p, ctx, DatasetCatalog.Load(p.Data, Split.Train, ctx.Log));

    /// <summary>Trains on an already loaded set (tests pass in-memory data).</summary>
    public TrainResult Run(TrainDiffusionParams p, StageContext ctx, ImageSet train)
    {
        Denormals.FlushToZero();   // before libtorch starts its intra-op threads (they inherit the flag)
        if (p.GridCount <= 0) throw new GenInputException($"--grid-n must be positive, got {p.GridCount}");
        if (p.SampleEvery < 0) throw new GenInputException($"--sample-every must be zero (end only) or positive, got {p.SampleEvery}");
        DiffusionConfig config = BuildConfig(p, train);
        string statePath = Path.Combine(ctx.OutputDir, Trainer.StateFile);
        if (p.Resume && File.Exists(statePath))
        {
            // The stored model config is authoritative on resume.
            var saved = JsonNode.Parse(File.ReadAllText(Path.Combine(ctx.OutputDir, Trainer.ConfigFile)))?["model"];
            if (saved is not null) config = saved.Deserialize<DiffusionConfig>(Json.Options) ?? config;
        }
        if (!p.Resume && (File.Exists(statePath) || File.Exists(Trainer.LastPath(ctx.OutputDir))))
            throw new GenInputException($"'{ctx.OutputDir}' already holds a run; pass --resume to continue it, or choose another --out");

        var manifest = new StageManifest
        {
            Kind = Kind,
            Params = JsonSerializer.SerializeToNode(p with { Resume = false }, Json.Options)!,
            Inputs = train.Source == "memory" ? [] : Inputs(p),
            Outputs = [Trainer.LastFile, Trainer.StateFile, Trainer.MetricsFile, Trainer.ConfigFile, Trainer.PlotDir, Trainer.SnapshotDir, SamplesDir],
        };
        Directory.CreateDirectory(ctx.OutputDir);
        manifest.Write(ctx.OutputDir);

        using var init = new Generator((ulong)p.Train.Seed);
        using var method = new DiffusionMethod(config, train, init);
        int grid = p.GridCount;
        var trainer = new Trainer(method, train, p.Train, ctx.OutputDir, _progress,
                                  runInfo: new JsonObject { ["stage"] = Kind, ["parameters"] = method.Diffusion.ParameterCount })
        {
            SampleEvery = p.SampleEvery,
            OnSample = (_, step) => WriteTrainingGrid(method.Diffusion, grid, Path.Combine(ctx.OutputDir, SamplesDir, $"step-{step:D8}.png")),
        };
        return manifest.RunTraining(ctx.OutputDir, () => trainer.Run(p.Resume, ctx.Cancel));
    }

    /// <summary>A sample grid of seeds 0..n−1 with the default steps (the Trainer has swapped in the EMA weights).</summary>
    public static void WriteTrainingGrid(DiffusionModel model, int n, string path)
    {
        var seeds = Enumerable.Range(0, n).Select(i => (long)i).ToList();
        var (images, _) = DiffusionSampler.Sample(model, seeds, new SampleOptions { Batch = n });
        using (images) SampleWriter.WriteGrid(path, images);
    }
}
