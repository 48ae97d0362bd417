// A diffusion checkpoint (kind edm or lowdiff) as an IImageSampler (Pipeline/Methods/Capabilities.cs),
// so `gen sample`, `gen fid CKPT …` and fid-curve can sample it. Sampling uses the EMA weights in the
// checkpoint and the default sampler settings (EDM: 18 Heun steps; LowDiff: 18,8,6 from σ_start = 2)
// unless options are given; image i uses seed i alone.
using System.Globalization;
using System.Text.Json.Nodes;
using Gen.Pipeline.Methods;

namespace Gen.Generative.Diffusion;

public sealed class DiffusionImageSampler : IImageSampler, IModel
{
    private readonly DiffusionModel _model;
    private readonly SampleOptions _options;
    private readonly bool _bf16;
    private SampleStats? _last;

    public DiffusionImageSampler(DiffusionModel model, SampleOptions? options = null, bool bf16 = false)
    {
        _model = model;
        _options = options ?? new SampleOptions();
        _bf16 = bf16;
        DiffusionSampler.Validate(model.Config, _options, 1);
    }

    public DiffusionModel Model => _model;
    public string Kind => _model.Config.Kind;
    public long Step => _model.Step;
    public int Channels => _model.Config.ImgChannels;
    public int Height => _model.Config.DataResolution;
    public int Width => _model.Config.DataResolution;

    public string Description => $"{_model.Config.Kind} step {_model.Step} ({(_bf16 ? "bf16" : "fp32")})";

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null) =>
        Sample(Enumerable.Range(0, count).Select(i => firstSeed + i).ToList(), progress);

    public byte[] Sample(IReadOnlyList<long> seeds, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var (images, stats) = DiffusionSampler.Sample(_model, seeds, _options, progress, cancel);
        _last = stats;
        using (images) return DiffusionSampler.ToBytes(images);
    }

    public JsonObject LastRun
    {
        get
        {
            var o = new JsonObject { ["kind"] = _model.Config.Kind, ["dtype"] = _bf16 ? "bf16" : "fp32" };
            if (_last is not { } s) return o;
            var stages = new JsonArray();
            for (int i = 0; i < s.Resolutions.Length; i++)
                stages.Add(new JsonObject { ["resolution"] = s.Resolutions[i], ["steps"] = s.Steps[i], ["nfe"] = s.NfePerStage[i] });
            o["stages"] = stages;
            o["nfe_full_res_equivalent"] = s.FullResEquivalentNfe;
            string per = string.Join(", ", s.Resolutions.Select((r, i) => $"{r}²: {s.NfePerStage[i]} ({s.Steps[i]} steps)"));
            o["details"] = string.Create(CultureInfo.InvariantCulture, $"NFE per resolution: {per}; {s.FullResEquivalentNfe:F2} full-resolution-equivalent");
            return o;
        }
    }

    public void Dispose() => _model.Dispose();
}
