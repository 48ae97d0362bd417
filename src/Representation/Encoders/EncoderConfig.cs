// Which backbone to build (docs/methods/representation.md §2.1): the CIFAR ResNet-18 (3×3 stem, stride
// 1, no max-pool; [lightly] and [HalC] models/resnet.py), the small CPU encoder resnet10s, and RotNet's
// NIN with four blocks (Gidaris et al. 2018, architectures/NetworkInNetwork.py). Input channels follow
// the data (1 for Fashion-MNIST, 3 for CIFAR).
using TorchSharp;

namespace Gen.Representation.Encoders;

public enum EncoderArch { Resnet18, Resnet10s, Nin4 }

public sealed record EncoderConfig
{
    public EncoderArch Arch { get; init; } = EncoderArch.Resnet10s;
    public int InChannels { get; init; } = 1;
    public bool ZeroInitResidual { get; init; } = false;   // torchvision zero_init_residual; [solo22] sets it for SimSiam

    // resnet18: widths 64–512, [2,2,2,2], stem stride 1 (docs/methods/representation.md D-1: padding 1 as [lightly]/[HalC]).
    // resnet10s: widths 16–128, [1,1,1,1], stem stride 2 — 0.31 M parameters, 3.5 M MACs at 28² (docs/methods/representation.md §2.1).
    public int[] Widths => Arch switch
    {
        EncoderArch.Resnet18 => [64, 128, 256, 512],
        EncoderArch.Resnet10s => [16, 32, 64, 128],
        _ => [],
    };

    public int[] Blocks => Arch switch
    {
        EncoderArch.Resnet18 => [2, 2, 2, 2],
        EncoderArch.Resnet10s => [1, 1, 1, 1],
        _ => [],
    };

    public int StemStride => Arch == EncoderArch.Resnet10s ? 2 : 1;

    public int FeatureDim => Arch == EncoderArch.Nin4 ? Nin4Encoder.Channels : Widths[^1];

    /// <summary>The layer probes read by default (docs/methods/representation.md D-3): RotNet's best NIN block is block 2; ResNets use the pooled feature.</summary>
    public string DefaultProbeLayer => Arch == EncoderArch.Nin4 ? "block2" : Encoder.Pool;

    public void Validate()
    {
        if (InChannels is not (1 or 3)) throw new Gen.Pipeline.GenInputException($"encoders take 1 or 3 input channels, got {InChannels}");
    }

    public Encoder Create(torch.Generator init)
    {
        Validate();
        return Arch == EncoderArch.Nin4 ? new Nin4Encoder(InChannels, init) : new ResNetEncoder(this, init);
    }
}
