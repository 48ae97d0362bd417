// The EDM training loss (Karras et al. 2022 §5; NVlabs/edm training/loss.py `EDMLoss`):
// ln σ ~ N(P_mean, P_std²) per sample, n ~ N(0, σ²I), loss = λ(σ)·‖D(y+n; σ) − y‖² with
// λ = (σ²+σ_d²)/(σ·σ_d)², averaged over pixels and batch. All randomness comes from the passed
// Generator (the Trainer seeds one per step), so a step is a pure function of (seed, step).
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public static class EdmLoss
{
    /// <summary>Draws σ per sample: exp(P_mean + P_std·N(0,1)), shape B.</summary>
    public static Tensor SampleSigma(long batch, DiffusionConfig c, Generator g) =>
        randn([batch], ScalarType.Float32, generator: g).mul_(c.PStd).add_(c.PMean).exp_();

    /// <summary>λ(σ) = (σ²+σ_d²)/(σ·σ_d)².</summary>
    public static Tensor Weight(Tensor sigma, double sigmaData) =>
        sigma.square().add(sigmaData * sigmaData).div(sigma.mul(sigmaData).square());

    /// <summary>Mean weighted denoising error of a batch of clean images y (B×C×H×W in [−1, 1]).</summary>
    public static Tensor Compute(EdmPrecond net, Tensor y, Tensor? labels, Generator g,
                                 CascadeInput? stage = null, double lossWeight = 1)
    {
        using var scope = NewDisposeScope();
        DiffusionConfig c = net.Config;
        Tensor sigma = SampleSigma(y.shape[0], c, g);
        Tensor n = randn(y.shape, y.dtype, generator: g).mul_(sigma.reshape(-1, 1, 1, 1));
        Tensor d = net.Denoise(y.add(n), sigma, labels, stage);
        Tensor w = Weight(sigma, c.SigmaData).reshape(-1, 1, 1, 1);
        Tensor loss = w.mul(d.sub(y).square()).mean();
        if (lossWeight != 1) loss = loss.mul(lossWeight);
        return loss.MoveToOuterDisposeScope();
    }
}
