// A diffusion checkpoint (kind edm or lowdiff) as an IImageSampler (Pipeline/Methods/Capabilities.cs),
// so `gen sample`, `gen fid CKPT …` and fid-curve can sample it. Sampling uses the EMA weights in the
// checkpoint and the default sampler settings (EDM: 18 Heun steps; LowDiff: 18,8,6 from σ_start = 2)
// unless options are given; image i uses seed i alone. The same sampler runs on TorchSharp
// (DiffusionImageSampler, which also exports its denoiser graph) or on an exported graph through ONNX
// Runtime (OnnxDiffusionSampler, docs/deploy.md §6).
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline.Methods;
using Gen.Pipeline.Onnx;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public abstract class DiffusionSamplerBase : IClassConditionalSampler, IModel
{
    private readonly SampleOptions _options;
    private SampleStats? _last;

    protected DiffusionSamplerBase(IEdmDenoiser denoiser, SampleOptions? options, long step)
    {
        Denoiser = denoiser;
        _options = options ?? new SampleOptions();
        Step = step;
        DiffusionSampler.Validate(denoiser.Config, _options, 1);
    }

    public IEdmDenoiser Denoiser { get; }
    public DiffusionConfig Config => Denoiser.Config;
    public string Kind => Config.Kind;
    public long Step { get; }
    public int Channels => Config.ImgChannels;
    public int Height => Config.DataResolution;
    public int Width => Config.DataResolution;

    /// <summary>The network's number format: "fp32" or "bf16".</summary>
    protected abstract string DType { get; }

    /// <summary>Where the network runs: "torch", or "onnx" and the device ("onnx cpu").</summary>
    protected abstract string Engine { get; }

    /// <summary>The class names of a conditional checkpoint (empty when unconditional).</summary>
    public IReadOnlyList<string> ClassNames => Config.LabelDim > 0 ? Config.ClassNames : [];

    public int ClassOfSeed(long seed) => DiffusionSampler.ClassOfSeed(Config, _options, seed);

    public string Description => $"{Config.Kind} step {Step} ({DType}{(Engine == "torch" ? "" : ", " + Engine)})";

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null) =>
        Sample(Enumerable.Range(0, count).Select(i => firstSeed + i).ToList(), progress);

    public byte[] Sample(IReadOnlyList<long> seeds, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var (images, stats) = Run(seeds, _options, progress, cancel);
        _last = stats;
        using (images) return DiffusionSampler.ToBytes(images);
    }

    protected virtual (Tensor Images, SampleStats Stats) Run(IReadOnlyList<long> seeds, SampleOptions o, IProgress<int>? progress, CancellationToken cancel) =>
        DiffusionSampler.Sample(Denoiser, seeds, o, progress, cancel);

    public JsonObject LastRun
    {
        get
        {
            var o = new JsonObject { ["kind"] = Config.Kind, ["dtype"] = DType, ["engine"] = Engine };
            if (_last is not { } s) return o;
            var stages = new JsonArray();
            for (int i = 0; i < s.Resolutions.Length; i++)
                stages.Add(new JsonObject { ["resolution"] = s.Resolutions[i], ["steps"] = s.Steps[i], ["nfe"] = s.NfePerStage[i], ["sampler"] = s.Samplers?[i] ?? "heun" });
            o["stages"] = stages;
            o["nfe_full_res_equivalent"] = s.FullResEquivalentNfe;
            string per = string.Join(", ", s.Resolutions.Select((r, i) => $"{r}²: {s.NfePerStage[i]} ({s.Steps[i]} steps)"));
            string details = string.Create(CultureInfo.InvariantCulture, $"NFE per resolution: {per}; {s.FullResEquivalentNfe:F2} full-resolution-equivalent");
            if (Config.LabelDim > 0)
            {
                o["class"] = _options.ClassIndex is { } k ? Config.ClassNames[k] : "seed mod classes";
                o["guidance"] = _options.Guidance;
                string cls = _options.ClassIndex is { } c ? $"class {c} ({Config.ClassNames[c]})" : $"class of image i = seed mod {Config.LabelDim}";
                details += string.Create(CultureInfo.InvariantCulture, $"\n{cls}, guidance {_options.Guidance:0.###}{(_options.Guidance == 1 ? " (none)" : "")}");
            }
            o["details"] = details;
            return o;
        }
    }

    public abstract void Dispose();
}

/// <summary>A diffusion checkpoint sampled with TorchSharp; its denoiser exports to ONNX.</summary>
public sealed class DiffusionImageSampler(DiffusionModel model, SampleOptions? options = null, bool bf16 = false)
    : DiffusionSamplerBase(model.Precond, options, model.Step), IOnnxExportable
{
    public DiffusionModel Model => model;

    protected override string DType => bf16 ? "bf16" : "fp32";

    protected override string Engine => "torch";

    protected override (Tensor Images, SampleStats Stats) Run(IReadOnlyList<long> seeds, SampleOptions o, IProgress<int>? progress, CancellationToken cancel) =>
        DiffusionSampler.Sample(model, seeds, o, progress, cancel);

    public string OnnxRole => DenoiserOnnx.Role;

    public void WriteOnnx(OnnxGraph g)
    {
        if (bf16) throw new InvalidOperationException("export the float32 model (open the checkpoint without --bf16)");
        DenoiserOnnx.Write(g, model);
    }

    public IReadOnlyDictionary<string, Tensor> ParityInputs(int count, Generator g) => DenoiserOnnx.ParityInputs(Config, count, Config.Resolution, g);

    public Tensor Reference(IReadOnlyDictionary<string, Tensor> inputs) => DenoiserOnnx.Reference(model.Precond, inputs);

    public OnnxTolerance Tolerance => OnnxTolerance.Denoiser;

    public IReadOnlyDictionary<string, string> OnnxMetadata => new Dictionary<string, string>
    {
        [DenoiserOnnx.ConfigKey] = Gen.Pipeline.Json.Serialize(Config, indented: false),
    };

    public override void Dispose() => model.Dispose();
}

/// <summary>An exported denoiser graph sampled through ONNX Runtime (the sampler loop stays in C#).</summary>
public sealed class OnnxDiffusionSampler(OnnxDenoiser denoiser, SampleOptions? options, long step)
    : DiffusionSamplerBase(denoiser, options, step)
{
    protected override string DType => "fp32";

    protected override string Engine => denoiser.Session.Engine;

    public override void Dispose() => denoiser.Dispose();
}
