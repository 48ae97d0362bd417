// A diffusion model as used for sampling: its config, the SongUNet and the EDM preconditioning around
// it. Built fresh for training, or rebuilt from a checkpoint (kind `edm` or `lowdiff`, config JSON in
// the metadata, EMA weights as the tensors: the Trainer's last.safetensors).
using Gen.Pipeline;
using Gen.Pipeline.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public sealed class DiffusionModel : IDisposable
{
    public DiffusionModel(DiffusionConfig config, Generator init)
    {
        config.Validate();
        Config = config;
        Net = new SongUNet(NetConfig(config), init);
        Precond = new EdmPrecond(Net, config);
    }

    public DiffusionConfig Config { get; }
    public SongUNet Net { get; }
    public EdmPrecond Precond { get; }
    public long Step { get; init; }
    public string? Path { get; init; }

    /// <summary>The UNet config a diffusion config implies (condition channels and stage vector for LowDiff).</summary>
    public static UNetConfig NetConfig(DiffusionConfig c) => c.Net with
    {
        ImgResolution = c.Resolution,
        InChannels = c.ImgChannels * (c.IsCascade ? 2 : 1),
        OutChannels = c.ImgChannels,
        LabelDim = c.LabelDim,
        AugmentDim = c.IsCascade ? DiffusionConfig.StageVectorDim(c.Stages) : 0,
    };

    public long ParameterCount => Net.parameters().Sum(p => p.numel());

    /// <summary>Loads a checkpoint of kind edm or lowdiff (a run folder stands for its last.safetensors).</summary>
    public static DiffusionModel Load(string path)
    {
        var (file, info) = Checkpoint.Open(path, DiffusionConfig.EdmKind, DiffusionConfig.LowDiffKind);
        DiffusionConfig config = Json.Deserialize<DiffusionConfig>(info.ConfigJson, $"the config in '{file.Path}'");
        config.Validate();
        using var g = new Generator(0);
        var model = new DiffusionModel(config, g) { Step = info.Step, Path = file.Path };
        Checkpoint.LoadInto(model.Net, file);
        model.Net.eval();
        return model;
    }

    /// <summary>Switches the network to bf16 (inference only; the sampler state stays float64).</summary>
    public void ToBFloat16() => Net.to(ScalarType.BFloat16);

    public void Dispose() => Net.Dispose();
}
