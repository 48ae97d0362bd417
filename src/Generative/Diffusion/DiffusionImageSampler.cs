// The diffusion checkpoints (kinds edm and lowdiff) behind the foundation's IImageSampler seam
// (Pipeline/Stages/ImageGenerators.cs), so `gen fid CKPT …` and fid-curve can sample them. Sampling
// uses the EMA weights in the checkpoint and the default sampler settings (EDM: 18 Heun steps; LowDiff:
// 18,8,6 from σ_start = 2) unless options are given; image i uses seed firstSeed + i alone.
using Gen.Pipeline.Stages;

namespace Gen.Generative.Diffusion;

public sealed class DiffusionImageSampler : IImageSampler
{
    private readonly DiffusionModel _model;
    private readonly SampleOptions _options;

    public DiffusionImageSampler(DiffusionModel model, SampleOptions? options = null)
    {
        _model = model;
        _options = options ?? new SampleOptions();
        DiffusionSampler.Validate(model.Config, _options, 1);
    }

    /// <summary>Opens a checkpoint with default sampler options (the ImageGenerators factory).</summary>
    public static IImageSampler Open(string path) => new DiffusionImageSampler(DiffusionModel.Load(path));

    /// <summary>Registers both diffusion kinds with the foundation's generator registry.</summary>
    public static void Register()
    {
        ImageGenerators.Register(DiffusionConfig.EdmKind, Open);
        ImageGenerators.Register(DiffusionConfig.LowDiffKind, Open);
    }

    public int Channels => _model.Config.ImgChannels;
    public int Height => _model.Config.DataResolution;
    public int Width => _model.Config.DataResolution;

    public string Description
    {
        get
        {
            int[] steps = _options.StageSteps ?? SampleOptions.DefaultSteps(_model.Config);
            return $"{_model.Config.Kind} step {_model.Step} (EMA), Heun steps {string.Join(",", steps)}";
        }
    }

    public byte[] SampleUint8(int count, long firstSeed, IProgress<int>? progress = null)
    {
        var seeds = Enumerable.Range(0, count).Select(i => firstSeed + i).ToList();
        var (images, _) = DiffusionSampler.Sample(_model, seeds, _options, progress);
        using (images) return DiffusionSampler.ToBytes(images);
    }

    public void Dispose() => _model.Dispose();
}
