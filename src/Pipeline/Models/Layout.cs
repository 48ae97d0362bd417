// Memory layouts TorchSharp 0.107 cannot ask for by name.
using static TorchSharp.torch;

namespace Gen.Pipeline.Models;

public static class Layout
{
    /// <summary>
    /// The same N×C×H×W tensor stored as N×H×W×C (PyTorch's channels_last: only the strides change).
    /// TorchSharp 0.107 has no memory_format argument, but libtorch picks a convolution's layout from its
    /// input's strides, so permuting to NHWC, copying and permuting back reaches oneDNN's NHWC kernels.
    /// Check results in float32: an NHWC 1×1 convolution of this libtorch is wrong for some channel counts
    /// (docs/platform.md §5).
    /// </summary>
    public static Tensor ChannelsLast(Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
}
