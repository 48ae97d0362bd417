// Diffusion training as a method of the one Trainer (docs/architecture.md): one step = the
// EDM loss (EdmLoss) on a batch. Data: uint8 → x/127.5 − 1, padded with −1 from 28² to 32²
// (docs/methods/diffusion.md §2.1). Class labels are one-hot and dropped to the zero vector with p = 0.1 for
// classifier-free guidance (Ho & Salimans 2022). LowDiff (docs/methods/diffusion.md §3.3): each step picks one cascade stage
// with p = StageProbs and trains at resolution r on B·(R/r)² images (StageBatch = pixels: every step costs
// about the FLOPs of a baseline step; the images beyond the Trainer's batch are drawn uniformly from the
// training set with the step's generator) or on the Trainer's B images (StageBatch = fixed: a step at r
// costs about (r/R)² of one), with cond = up(down(x_r)) + σ_aug·ε′ and σ_aug = 0 with p = 0.5 else
// U(0, 0.25) (conditioning augmentation, Ho et al. 2021 CDM).
using Gen.Pipeline;
using Gen.Pipeline.Data;
using Gen.Pipeline.Training;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public sealed class DiffusionMethod : ITrainMethod
{
    private readonly DiffusionModel _model;
    private readonly ImageSet _data;

    public DiffusionMethod(DiffusionConfig config, ImageSet data, Generator init)
    {
        config.Validate();
        if (data.Channels != config.ImgChannels || data.Height != config.DataResolution || data.Width != config.DataResolution)
            throw new GenInputException($"'{data.Name}' has {data.Channels}×{data.Height}×{data.Width} images but the model expects {config.ImgChannels}×{config.DataResolution}×{config.DataResolution}");
        _model = new DiffusionModel(config, init);
        _data = data;
    }

    public DiffusionModel Diffusion => _model;
    public DiffusionConfig Config => _model.Config;
    public string Kind => Config.Kind;
    public string ConfigJson => Json.Serialize(Config, indented: false);
    public nn.Module Model => _model.Net;

    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["gen.diffusion.params"] = _model.ParameterCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Images in [0,1] at the data size → [−1,1] padded with −1 to the network resolution.</summary>
    public static Tensor Prepare(Tensor images01, DiffusionConfig c)
    {
        using var scope = NewDisposeScope();
        int pad = (c.Resolution - c.DataResolution) / 2;
        Tensor x = images01.mul(2).sub(1);
        if (pad > 0) x = nn.functional.pad(x, [pad, pad, pad, pad], value: -1);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>One-hot labels with label dropout (rows set to zero = unconditional).</summary>
    private Tensor? Labels(Tensor labels, Generator g)
    {
        if (Config.LabelDim == 0) return null;
        Tensor oneHot = nn.functional.one_hot(labels.clamp(0, Config.LabelDim - 1), Config.LabelDim).to(ScalarType.Float32);
        if (Config.LabelDropout <= 0) return oneHot;
        Tensor keep = rand([labels.shape[0], 1], generator: g).ge(Config.LabelDropout).to(ScalarType.Float32);
        return oneHot.mul(keep);
    }

    /// <summary>The cascade stage a step trains: a pure function of the step's generator (its first draw).</summary>
    public static int PickStage(DiffusionConfig c, Generator g)
    {
        double u = rand([1], ScalarType.Float64, generator: g).item<double>() * c.StageProbs.Sum();
        for (int s = 0; s < c.Stages; s++)
        {
            u -= c.StageProbs[s];
            if (u < 0) return s;
        }
        return c.Stages - 1;
    }

    public StepOutput Step(Batch batch, StepContext ctx)
    {
        Generator g = ctx.Generator;
        if (!Config.IsCascade)
        {
            Tensor y = Prepare(batch.Images, Config);
            return new StepOutput(EdmLoss.Compute(_model.Precond, y, Labels(batch.Labels, g), g));
        }

        int s = PickStage(Config, g);
        int r = Config.Cascade[s];
        int k = LowDiffCascade.Octaves(r, Config.Resolution);
        Tensor images = batch.Images, labels = batch.Labels;
        long want = Config.StageBatchSize(s, batch.Images.shape[0]);
        if (want > images.shape[0])
        {
            long[] extra = randint(0, _data.Count, [want - images.shape[0]], ScalarType.Int64, generator: g).data<long>().ToArray();
            int[] idx = extra.Select(i => (int)i).ToArray();
            images = cat([images, Batches.Float(_data, idx)], 0);
            labels = cat([labels, Batches.Labels(_data, idx)], 0);
        }
        Tensor x = LowDiffCascade.Down(Prepare(images, Config), k);
        long b = x.shape[0];
        CascadeInput stage;
        if (s == 0)
        {
            Tensor none = zeros(b);
            stage = new CascadeInput(null, LowDiffCascade.StageVector(0, Config.Stages, none), none);
        }
        else
        {
            Tensor augOn = rand([b], generator: g).lt(Config.SigmaAugProb).to(ScalarType.Float32);
            Tensor sigmaAug = rand([b], generator: g).mul(Config.SigmaAugMax).mul(augOn);
            Tensor cond = LowDiffCascade.Up(LowDiffCascade.Down(x));
            cond = cond.add(randn(cond.shape, generator: g).mul(sigmaAug.reshape(-1, 1, 1, 1)));
            stage = new CascadeInput(cond, LowDiffCascade.StageVector(s, Config.Stages, sigmaAug), sigmaAug);
        }
        Tensor loss = EdmLoss.Compute(_model.Precond, x, Labels(labels, g), g, stage, Config.StageLossWeights[s]);
        return new StepOutput(loss, new Dictionary<string, Tensor> { ["stage_res"] = tensor((float)r) });
    }

    public void Dispose() => _model.Dispose();
}
