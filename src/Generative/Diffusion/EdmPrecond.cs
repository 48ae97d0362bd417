// EDM preconditioning (Karras et al. 2022, Table 1; NVlabs/edm training/networks.py `EDMPrecond`):
// D(x; σ) = c_skip·x + c_out·F(c_in·x; c_noise) with c_skip = σ_d²/(σ²+σ_d²),
// c_out = σ·σ_d/√(σ²+σ_d²), c_in = 1/√(σ²+σ_d²), c_noise = ¼·ln σ; and the loss weight
// λ(σ) = (σ²+σ_d²)/(σ·σ_d)² of edm/training/loss.py. For LowDiff (docs/methods/diffusion.md §3.2) the network also
// sees the upsampled lower-resolution image as extra input channels, scaled by 1/√(σ_d²+σ_aug²), and a
// stage vector [one-hot(stage), σ_aug/0.25] through SongUNet's augment-label path.
using static TorchSharp.torch;

namespace Gen.Generative.Diffusion;

public readonly record struct EdmCoefficients(double CSkip, double COut, double CIn, double CNoise, double LossWeight)
{
    public static EdmCoefficients At(double sigma, double sigmaData)
    {
        double s2 = sigma * sigma, d2 = sigmaData * sigmaData;
        return new EdmCoefficients(
            CSkip: d2 / (s2 + d2),
            COut: sigma * sigmaData / Math.Sqrt(s2 + d2),
            CIn: 1 / Math.Sqrt(s2 + d2),
            CNoise: Math.Log(sigma) / 4,
            LossWeight: (s2 + d2) / (s2 * d2));
    }
}

/// <summary>
/// The conditioning a LowDiff stage adds: the upsampled lower-resolution image (B×C×H×W, already
/// noise-augmented), the stage vector (B×(K+2)) and σ_aug per sample (B; null = 0).
/// </summary>
public sealed record CascadeInput(Tensor? Cond, Tensor? StageVector, Tensor? SigmaAug = null);

/// <summary>The EDM denoiser D(x; σ, labels, stage input) the samplers call: TorchSharp
/// (<see cref="EdmPrecond"/>) or an exported graph on ONNX Runtime (<see cref="OnnxDenoiser"/>).</summary>
public interface IEdmDenoiser
{
    DiffusionConfig Config { get; }

    /// <summary>
    /// D(x; σ). <paramref name="x"/> is float32 or float64 (B×C×H×W), <paramref name="sigma"/> float (B);
    /// the result has x's dtype.
    /// </summary>
    Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, CascadeInput? stage = null);
}

/// <summary>Wraps a <see cref="SongUNet"/> into the EDM denoiser D(x; σ, labels, stage input).</summary>
public sealed class EdmPrecond : IEdmDenoiser
{
    public EdmPrecond(SongUNet net, DiffusionConfig config)
    {
        Net = net;
        Config = config;
    }

    public SongUNet Net { get; }
    public DiffusionConfig Config { get; }

    /// <summary>
    /// D(x; σ). <paramref name="x"/> is float32 or float64 (B×C×H×W), <paramref name="sigma"/> float (B);
    /// the result has x's dtype. The network runs in its own dtype (fp32, or bf16 at inference).
    /// </summary>
    public Tensor Denoise(Tensor x, Tensor sigma, Tensor? labels, CascadeInput? stage = null)
    {
        using var scope = NewDisposeScope();
        ScalarType work = x.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        Tensor s = sigma.to(work).reshape(-1, 1, 1, 1);
        double d = Config.SigmaData;
        Tensor s2d2 = s.square().add(d * d);
        Tensor cSkip = s2d2.reciprocal().mul(d * d);
        Tensor cOut = s.mul(d).div(s2d2.sqrt());
        Tensor cIn = s2d2.rsqrt();
        Tensor cNoise = s.log().div(4).flatten();
        Tensor input = cIn.mul(x);
        if (Config.IsCascade)
        {
            Tensor cond = stage?.Cond?.to(work) ?? zeros_like(x);
            Tensor scale = stage?.SigmaAug is { } a
                ? a.to(work).square().add(d * d).rsqrt().reshape(-1, 1, 1, 1)
                : full([1, 1, 1, 1], 1 / d, work);
            input = cat([input, cond.mul(scale)], 1);
        }
        Tensor f = Net.forward(input.to(NetDType), cNoise.to(ScalarType.Float32), labels, stage?.StageVector);
        Tensor dx = cSkip.mul(x).add(cOut.mul(f.to(work)));
        return dx.to(x.dtype).MoveToOuterDisposeScope();
    }

    private ScalarType NetDType => Net.parameters().First().dtype;
}
