// Convolutions for every Gen network (docs/platform.md §3). Narrow ones (fewer than 16 output channels) go through
// NarrowConv2d, which works around a defect of libtorch 2.10's oneDNN 3.7.1 on this AVX-512 CPU:
// the jit:avx512_core backward_data kernel returns NaN input gradients in about 1–20% of calls when
// the convolution has fewer than 16 output channels and libtorch runs 2 threads (measured with a
// plain TorchSharp conv, no Gen code: ic=oc=8 → 32/300 calls, ic=32→oc=1 → 3/300, ic=64→oc=3 →
// 2/300; 0/300 with 1 thread, with ONEDNN_MAX_CPU_ISA=AVX2, or with ≥16 output channels; Debian's
// torch 1.13 / oneDNN 2.6 shows 0/300). Such convolutions include a UNet's image-output layer, so
// training would now and then diverge for no reason. Capping oneDNN at AVX2 fixes it but costs 35%
// of the classifier's training throughput, so instead the narrow convolution runs as a 16-channel
// one whose extra filters are zero, and the extra outputs are dropped. The parameters keep the
// ordinary nn.Conv2d names and shapes (weight [out, in, k, k], bias [out]).
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Gen.Pipeline.Models;

public static class Conv
{
    /// <summary>Output channels below which the zero-padded path is used (the oneDNN block width).</summary>
    public const int SafeOutChannels = 16;

    public static Module<Tensor, Tensor> Conv2d(long inChannels, long outChannels, long kernel, long stride = 1,
                                                 long padding = 0, bool bias = true) =>
        outChannels < SafeOutChannels
            ? new NarrowConv2d(inChannels, outChannels, kernel, stride, padding, bias)
            : nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, bias: bias);

    /// <summary>The weight (and bias) of a convolution made by <see cref="Conv2d"/>.</summary>
    public static (Parameter Weight, Parameter? Bias) Parameters(Module<Tensor, Tensor> conv) => conv switch
    {
        Conv2d c => (c.weight!, c.bias),
        NarrowConv2d n => (n.Weight, n.Bias),
        _ => throw new ArgumentException($"{conv.GetType().Name} is not a convolution"),
    };
}

public sealed class NarrowConv2d : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long _stride, _padding;

    public NarrowConv2d(long inChannels, long outChannels, long kernel, long stride, long padding, bool hasBias)
        : base(nameof(NarrowConv2d))
    {
        // PyTorch's default init, U(±1/√fan_in), as nn.Conv2d; callers usually re-initialise.
        double bound = 1.0 / Math.Sqrt(inChannels * kernel * kernel);
        weight = new Parameter(empty(outChannels, inChannels, kernel, kernel).uniform_(-bound, bound));
        if (hasBias) bias = new Parameter(empty(outChannels).uniform_(-bound, bound));
        _stride = stride;
        _padding = padding;
        RegisterComponents();
    }

    public Parameter Weight => weight;
    public Parameter? Bias => bias;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long o = weight.shape[0], extra = Conv.SafeOutChannels - o;
        Tensor w = cat([weight, zeros([extra, weight.shape[1], weight.shape[2], weight.shape[3]], weight.dtype, weight.device)], 0);
        Tensor? b = bias is null ? null : cat([bias, zeros([extra], bias.dtype, bias.device)], 0);
        Tensor y = functional.conv2d(x, w, b, strides: [_stride, _stride], padding: [_padding, _padding]);
        return y.narrow(1, 0, o).MoveToOuterDisposeScope();
    }
}
