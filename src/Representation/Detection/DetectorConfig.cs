// The real-vs-fake detector's configuration (docs/methods/detection.md §3), stored as the checkpoint's
// gen.config. `cifake` is the network as third-party replications build CIFAKE's best model (two
// 3×3×32 convolutions without padding, each followed by ReLU and a 2×2 max-pool, a dense layer of 64,
// one logit); `cifake-wide` doubles every width; `resnet-s` is Gen's small ResNet with one logit.
using Gen.Pipeline;
using Gen.Pipeline.Models;

namespace Gen.Representation.Detection;

public sealed record DetectorConfig
{
    public const string Cifake = "cifake", CifakeWide = "cifake-wide", ResNetS = "resnet-s";
    public static readonly string[] Archs = [Cifake, CifakeWide, ResNetS];

    /// <summary>A cifake-shaped network with the widths `gen detect search` chose (Convs and Dense say which).</summary>
    public const string Searched = "cifake-searched";

    public string Arch { get; init; } = Cifake;

    /// <summary>Filters of each 3×3 convolution (no padding, ReLU, 2×2 max-pool); cifake nets only.</summary>
    public int[] Convs { get; init; } = [32, 32];

    /// <summary>Widths of the dense ReLU layers before the logit; cifake nets only.</summary>
    public int[] Dense { get; init; } = [64];

    /// <summary>The ResNet of resnet-s (one output: the logit).</summary>
    public ResNetConfig? ResNet { get; init; }

    public int InChannels { get; init; } = 1;
    public int ImageSize { get; init; } = 28;
    public string Dataset { get; init; } = "";

    /// <summary>The named architecture for images of <paramref name="channels"/>×<paramref name="size"/>².</summary>
    public static DetectorConfig For(string arch, int channels, int size, string dataset) => arch switch
    {
        Cifake => new() { Arch = arch, Convs = [32, 32], Dense = [64], InChannels = channels, ImageSize = size, Dataset = dataset },
        CifakeWide => new() { Arch = arch, Convs = [64, 64], Dense = [128], InChannels = channels, ImageSize = size, Dataset = dataset },
        ResNetS => new()
        {
            Arch = arch, Convs = [], Dense = [], InChannels = channels, ImageSize = size, Dataset = dataset,
            ResNet = new ResNetConfig { InChannels = channels, Classes = 1, Widths = [16, 32, 64], Blocks = [1, 1, 1], StemStride = 1 },
        },
        _ => throw new GenInputException($"--arch '{arch}' is not a detector architecture; use one of {string.Join(", ", Archs)}"),
    };

    /// <summary>Side of the last convolution's output (Grad-CAM's map) for a cifake net: each block is a
    /// valid 3×3 convolution (−2) followed, except the last, by a floor-halving pool.</summary>
    public int CamSide
    {
        get
        {
            int s = ImageSize;
            for (int i = 0; i < Convs.Length; i++)
            {
                s -= 2;
                if (i < Convs.Length - 1) s /= 2;
            }
            return s;
        }
    }

    /// <summary>Side after the last block's pool, i.e. the flattened map feeding the dense layers.</summary>
    public int FlatSide => CamSide / 2;

    public void Validate()
    {
        if (!Archs.Contains(Arch) && Arch != Searched) throw new GenInputException($"detector architecture '{Arch}' is unknown; use one of {string.Join(", ", Archs)}");
        if (InChannels is not (1 or 3)) throw new GenInputException($"a detector takes 1- or 3-channel images, got {InChannels}");
        if (Arch == ResNetS)
        {
            if (ResNet is null) throw new GenInputException("a resnet-s detector config needs its ResNet");
            ResNet.Validate();
            return;
        }
        if (Convs.Length == 0 || Convs.Any(c => c <= 0)) throw new GenInputException("a cifake detector needs one or more convolutions with positive filter counts");
        if (Dense.Any(d => d <= 0)) throw new GenInputException("dense layer widths must be positive");
        if (FlatSide < 1)
            throw new GenInputException($"{ImageSize}x{ImageSize} images are too small for {Convs.Length} unpadded 3x3 convolutions with pooling; use fewer convolutions or larger images");
    }
}
