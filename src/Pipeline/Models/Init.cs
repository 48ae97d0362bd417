// Weight initialisation from an explicit Generator (no global seed). Formulas as torch.nn.init
// (PyTorch 1.13 init.py): Kaiming-normal std = gain/√fan with gain √2 for ReLU (He et al. 2015);
// PyTorch's default Linear/Conv init is U(±1/√fan_in) for weight and bias.
using static TorchSharp.torch;

namespace Gen.Pipeline.Models;

public static class Init
{
    public static (long FanIn, long FanOut) Fans(Tensor w)
    {
        long receptive = 1;
        for (int d = 2; d < w.dim(); d++) receptive *= w.shape[d];
        return (w.shape[1] * receptive, w.shape[0] * receptive);
    }

    /// <summary>kaiming_normal_(w, mode='fan_out', nonlinearity='relu'), as torchvision's ResNet.</summary>
    public static void KaimingNormalFanOut(Tensor w, Generator g)
    {
        using var _ = no_grad();
        double std = Math.Sqrt(2.0) / Math.Sqrt(Fans(w).FanOut);
        w.normal_(0, std, g);
    }

    /// <summary>PyTorch's default Linear/Conv init: weight and bias U(±1/√fan_in).</summary>
    public static void DefaultUniform(Tensor w, Tensor? b, Generator g)
    {
        using var _ = no_grad();
        double bound = 1.0 / Math.Sqrt(Fans(w).FanIn);
        w.uniform_(-bound, bound, g);
        b?.uniform_(-bound, bound, g);
    }
}
