// The diffusion denoiser as an ONNX graph (docs/deploy.md §6): the EDM preconditioning around the
// SongUNet inside the graph, so the graph maps (x, σ[, class labels][, cond, stage, σ_aug]) to D(x; σ).
// Height and width are dynamic axes, so one LowDiff graph serves every cascade resolution. The sampler
// loop stays in C#: OnnxDenoiser is the IEdmDenoiser the samplers call, backed by an ONNX Runtime session.
using Gen.Pipeline;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public static class DenoiserOnnx
{
    public const string Role = "denoiser";
    public const string ConfigKey = "gen.config";
    public const string X = "x", Sigma = "sigma", ClassLabels = "class_labels", Cond = "cond", Stage = "stage", SigmaAug = "sigma_aug";
    public const string Output = "denoised";

    /// <summary>
    /// D(x; σ) = c_skip·x + c_out·F(c_in·x; ¼ln σ) with c_skip = σ_d²/(σ²+σ_d²), c_out = σσ_d/√(σ²+σ_d²),
    /// c_in = 1/√(σ²+σ_d²) (the same formulas as <see cref="EdmPrecond"/>); LowDiff adds the condition
    /// channels scaled by 1/√(σ_aug²+σ_d²) and the stage vector.
    /// </summary>
    public static void Write(OnnxGraph g, DiffusionModel model)
    {
        DiffusionConfig c = model.Config;
        object[] image = [(long)c.ImgChannels, "height", "width"];
        string x = g.Input(X, image);
        string sigma = g.Input(Sigma);
        string? labels = c.LabelDim > 0 ? g.Input(ClassLabels, c.LabelDim) : null;
        string? cond = null, stage = null, sigmaAug = null;
        if (c.IsCascade)
        {
            cond = g.Input(Cond, image);
            stage = g.Input(Stage, DiffusionConfig.StageVectorDim(c.Stages));
            sigmaAug = g.Input(SigmaAug);
        }
        double d = c.SigmaData;
        string s = g.Reshape(sigma, "precond.sigma", -1, 1, 1, 1);
        string s2d2 = g.Add(g.Mul(s, s, "precond.sigma2"), g.Scalar("precond.d2", d * d), "precond.s2d2");
        string cIn = g.Node("Reciprocal", [g.Node("Sqrt", [s2d2], "precond.sqrt")], "precond.c_in");
        string cSkip = g.Node("Div", [g.Scalar("precond.d2_num", d * d), s2d2], "precond.c_skip");
        string cOut = g.Scale(g.Mul(s, cIn, "precond.s_cin"), d, "precond.c_out");
        string cNoise = g.Scale(g.Node("Log", [sigma], "precond.log_sigma"), 0.25, "precond.c_noise");
        string input = g.Mul(cIn, x, "precond.x_in");
        if (c.IsCascade)
        {
            string a = g.Reshape(sigmaAug!, "precond.sigma_aug", -1, 1, 1, 1);
            string a2d2 = g.Add(g.Mul(a, a, "precond.aug2"), g.Scalar("precond.aug_d2", d * d), "precond.a2d2");
            string condScale = g.Node("Reciprocal", [g.Node("Sqrt", [a2d2], "precond.aug_sqrt")], "precond.cond_scale");
            input = g.Concat([input, g.Mul(cond!, condScale, "precond.cond")], 1, "precond.input");
        }
        string f = model.Net.WriteOnnx(g, input, cNoise, labels, stage);
        string denoised = g.Add(g.Mul(cSkip, x, "precond.skip"), g.Mul(cOut, f, "precond.out"), "precond.d");
        g.Output(g.Node("Identity", [denoised], Output), image);
    }

    /// <summary>Parity inputs at <paramref name="resolution"/>: σ log-uniform over [σ_min, σ_max], x = y + σz with y ~ U[−1,1],
    /// one-hot labels with every fourth row unconditional, and random cascade conditions.</summary>
    public static Dictionary<string, Tensor> ParityInputs(DiffusionConfig c, int count, int resolution, Generator g)
    {
        long[] shape = [count, c.ImgChannels, resolution, resolution];
        Tensor sigma = rand([count], generator: g).mul(Math.Log(c.SigmaMax / c.SigmaMin)).add(Math.Log(c.SigmaMin)).exp();
        Tensor x = rand(shape, generator: g).mul(2).sub(1).add(randn(shape, generator: g).mul(sigma.reshape(-1, 1, 1, 1)));
        var inputs = new Dictionary<string, Tensor> { [X] = x, [Sigma] = sigma };
        if (c.LabelDim > 0)
        {
            Tensor oneHot = nn.functional.one_hot(randint(0, c.LabelDim, [count], ScalarType.Int64, generator: g), c.LabelDim).to(ScalarType.Float32);
            inputs[ClassLabels] = oneHot.mul(arange(count).remainder(4).ne(0).to(ScalarType.Float32).unsqueeze(1));
        }
        if (c.IsCascade)
        {
            Tensor aug = rand([count], generator: g).mul(LowDiffCascade.SigmaAugScale);
            Tensor stage = nn.functional.one_hot(randint(0, c.Stages, [count], ScalarType.Int64, generator: g), c.Stages + 1).to(ScalarType.Float32);
            stage[.., c.Stages] = aug.div(LowDiffCascade.SigmaAugScale);
            inputs[Cond] = rand(shape, generator: g).mul(2).sub(1).add(randn(shape, generator: g).mul(aug.reshape(-1, 1, 1, 1)));
            inputs[Stage] = stage;
            inputs[SigmaAug] = aug;
        }
        return inputs;
    }

    /// <summary>TorchSharp's D(x; σ) on parity inputs (float32, as the graph).</summary>
    public static Tensor Reference(EdmPrecond precond, IReadOnlyDictionary<string, Tensor> inputs)
    {
        CascadeInput? stage = inputs.TryGetValue(Cond, out var cond) ? new CascadeInput(cond, inputs[Stage], inputs[SigmaAug]) : null;
        return precond.Denoise(inputs[X], inputs[Sigma], inputs.GetValueOrDefault(ClassLabels), stage);
    }

    /// <summary>Opens an exported denoiser as a sampler with `gen sample`'s options.</summary>
    public static Pipeline.Methods.IModel Open(OnnxSession session, System.Text.Json.Nodes.JsonObject sampleSettings)
    {
        string json = session.Meta(ConfigKey) ?? throw new GenInputException($"'{session.Source}' is a denoiser without its diffusion config ({ConfigKey}); export it again with gen export");
        DiffusionConfig config = Json.Deserialize<DiffusionConfig>(json, $"the config in '{session.Source}'");
        config.Validate();
        var settings = Pipeline.Methods.ParamSchema.Of<DiffusionSampleSettings>().Bind(new DiffusionSampleSettings(), sampleSettings, $"sampling '{session.Source}'");
        if (settings.Bf16) throw new GenInputException("--bf16 applies to the TorchSharp engine; an ONNX model runs in float32 (drop --bf16, or use --engine torch with a checkpoint)");
        var denoiser = new OnnxDenoiser(session, config);
        long step = long.TryParse(session.Meta("gen.step"), out long st) ? st : 0;
        return new OnnxDiffusionSampler(denoiser, settings.ToOptions(config), step);
    }
}

/// <summary>D(x; σ) by an exported denoiser graph on ONNX Runtime. x and σ go in as float32 and the result
/// comes back in x's dtype (the sampler state stays float64).</summary>
public sealed class OnnxDenoiser : IEdmDenoiser, IDisposable
{
    private readonly OnnxSession _session;

    public OnnxDenoiser(OnnxSession session, DiffusionConfig config)
    {
        _session = session;
        Config = config;
        var inputs = session.Session.InputMetadata;
        string[] want = [DenoiserOnnx.X, DenoiserOnnx.Sigma, .. config.LabelDim > 0 ? [DenoiserOnnx.ClassLabels] : Array.Empty<string>(),
                         .. config.IsCascade ? [DenoiserOnnx.Cond, DenoiserOnnx.Stage, DenoiserOnnx.SigmaAug] : Array.Empty<string>()];
        if (!want.Order().SequenceEqual(inputs.Keys.Order()))
            throw new GenInputException($"'{session.Source}' has inputs ({string.Join(", ", inputs.Keys)}) but its config needs ({string.Join(", ", want)}); export it again with gen export");
    }

    public DiffusionConfig Config { get; }
    public OnnxSession Session => _session;

    /// <summary>Rows per ONNX Runtime pass: larger sampler batches are split (docs/deploy.md §6: of passes of 32, 64,
    /// 128 and 256 rows at sampler batch 256, 32 had the best mean over two rounds; the differences are near the
    /// machine's noise; bench/RESULTS.md).</summary>
    public int MaxBatch { get; init; } = 32;

    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, CascadeInput? stage = null)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        var inputs = new Dictionary<string, Tensor> { [DenoiserOnnx.X] = x, [DenoiserOnnx.Sigma] = sigma.reshape(b) };
        if (Config.LabelDim > 0) inputs[DenoiserOnnx.ClassLabels] = labels ?? zeros(b, Config.LabelDim);
        if (Config.IsCascade)
        {
            inputs[DenoiserOnnx.Cond] = stage?.Cond ?? zeros_like(x);
            inputs[DenoiserOnnx.Stage] = stage?.StageVector ?? throw new ArgumentException("a cascade denoiser needs the stage vector");
            inputs[DenoiserOnnx.SigmaAug] = stage.SigmaAug ?? zeros(b);
        }
        return _session.Run(inputs, MaxBatch).to(x.dtype).MoveToOuterDisposeScope();
    }

    public void Dispose() => _session.Dispose();
}
